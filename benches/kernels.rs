//! Criterion benches of precis' CPU kernels on SmolLM2-135M's real shapes: GEMV (decode,
//! one activation row), 10 rows (batched decode) and 128 rows (prefill) for Q4_1 weights and
//! the Q8_0 tied output matrix; attention over an f16 cache. Threads: `PRECIS_BENCH_THREADS`
//! (default 1). Reaches the kernels through `precis::engine::kernel_api`; must not touch the
//! model.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use precis::engine::kernel_api::{self as api, attend_group, matmul, GgmlType, PackedMatrix, Pool, QAct};

fn rng(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Random ggml rows with small f16 scales (0x2000 ≈ 0.0078) at the start of each block.
fn random_weights(ty: GgmlType, n: usize, k: usize) -> PackedMatrix {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let bb = ty.block_bytes();
    let mut raw: Vec<u8> = (0..ty.row_bytes(k) * n).map(|_| rng(&mut s) as u8).collect();
    for blk in raw.chunks_exact_mut(bb) {
        blk[0..2].copy_from_slice(&0x2000u16.to_le_bytes());
        if ty == GgmlType::Q4_1 {
            blk[2..4].copy_from_slice(&0xa000u16.to_le_bytes());
        }
    }
    api::weights(ty, &raw, n, k).expect("pack")
}

fn activations(rows: usize, k: usize) -> QAct {
    let mut s = 12345u64;
    let x: Vec<f32> = (0..rows * k).map(|_| (rng(&mut s) % 2001) as f32 / 1000.0 - 1.0).collect();
    let mut a = QAct::new();
    a.quantize(&x, rows, k);
    a
}

fn bench(c: &mut Criterion) {
    let threads = std::env::var("PRECIS_BENCH_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let pool = Pool::new(threads);
    // (k, n, type): q|k|v|o, k/v, gate/up, down, tied output.
    let shapes = [
        (576, 576, GgmlType::Q4_1),
        (576, 192, GgmlType::Q4_1),
        (576, 1536, GgmlType::Q4_1),
        (1536, 576, GgmlType::Q4_1),
        (576, 49152, GgmlType::Q8_0),
    ];
    for (rows, name) in [(1usize, "gemv"), (10, "gemm10"), (128, "gemm128")] {
        let mut g = c.benchmark_group(format!("{name}_t{threads}"));
        g.sample_size(10);
        for &(k, n, ty) in &shapes {
            let w = random_weights(ty, n, k);
            let a = activations(rows, k);
            let mut out = vec![0f32; rows * n];
            g.throughput(Throughput::Elements((2 * rows * n * k) as u64));
            g.bench_with_input(BenchmarkId::new(format!("{ty:?}"), format!("{k}x{n}")), &(), |b, _| {
                b.iter(|| matmul(&pool, &[&w], &a, &mut out))
            });
        }
        g.finish();
    }
    // Attention of the 3 query heads of one KV head (decode), and of 4 rows × 3 heads (prefill).
    let mut g = c.benchmark_group("attention");
    for (nq, n) in [(3usize, 256usize), (12, 200)] {
        let mut s = 777u64;
        let mut f = |len: usize| -> Vec<f32> { (0..len).map(|_| (rng(&mut s) % 2001) as f32 / 1000.0 - 1.0).collect() };
        let (q, k, v) = (f(nq * 64), f(n * 64), f(n * 64));
        let half = |x: &[f32]| -> Vec<u16> {
            let mut h = vec![0u16; x.len()];
            api::to_f16(x, &mut h);
            h
        };
        let (k, v) = (half(&k), half(&v));
        let ns = vec![n; nq];
        let (mut sc, mut out) = (vec![0f32; nq * n], vec![0f32; nq * 64]);
        g.throughput(Throughput::Elements((nq * n) as u64));
        g.bench_function(format!("q{nq}_n{n}"), |b| {
            b.iter(|| attend_group(&q, 64, &ns, &k, &v, 0.125, &mut sc, &mut out))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("quantize_act");
    let x: Vec<f32> = (0..512 * 576).map(|i| (i % 97) as f32 * 0.01 - 0.5).collect();
    let mut a = QAct::new();
    g.throughput(Throughput::Elements(x.len() as u64));
    g.bench_function("512x576", |b| b.iter(|| a.quantize(&x, 512, 576)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
