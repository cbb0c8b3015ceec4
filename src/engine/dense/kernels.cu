// precis's fused CUDA kernels for the dense model's decode step (one new token per row).
// Built to PTX by build.rs under the `cuda` feature and loaded by dense/fused.rs.
// Math in float; storage in float or half. One launch each where candle takes several:
// at one token per step, launches are what a small model's decode time is made of. Layouts:
//   qkv      [B, (H + 2*KV) * hd]   projections of one new token per row
//   cos/sin  [B, hd/2] float         RoPE angles at each row's position
//   k/v      [B, KV, cap, hd]        the KV cache; the new token goes to index len
//   pads     [B] u32                 left padding of each row (masked keys)
#include <cuda_fp16.h>
#include <stdint.h>

__device__ __forceinline__ float tof(float x) { return x; }
__device__ __forceinline__ float tof(__half x) { return __half2float(x); }
template <typename T> __device__ __forceinline__ T fromf(float x);
template <> __device__ __forceinline__ float fromf<float>(float x) { return x; }
template <> __device__ __forceinline__ __half fromf<__half>(float x) { return __float2half(x); }

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, o));
    return v;
}
__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
    return v;
}
// Block-wide reductions; every thread gets the result. blockDim.x is a multiple of 32.
__device__ float block_max(float v, float* red) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) red[warp] = v;
    __syncthreads();
    v = lane < nw ? red[lane] : -INFINITY;
    return warp_max(v);
}
__device__ float block_sum(float v, float* red) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) red[warp] = v;
    __syncthreads();
    v = lane < nw ? red[lane] : 0.f;
    return warp_sum(v);
}

// Rotates the pair (a, b) of a head by the row's angles.
__device__ __forceinline__ void rotate(float x0, float x1, float c, float s, float* y0, float* y1) {
    *y0 = x0 * c - x1 * s;
    *y1 = x0 * s + x1 * c;
}

// grid (B * H), block 128, dynamic shared memory (3 * hd + total) floats. One query head
// of one row: rotate and scale its q, rotate its KV head's new k (every block of that KV
// head computes the same values; the first of them stores k and v at index len), then
// attend over keys 0..len (the newest from shared memory). Keys left of the row's padding
// are masked. out: [B, H * hd].
template <typename T>
__device__ void attn_decode(const T* qkv, const float* cos, const float* sin, T* kc, T* vc,
                            const uint32_t* pads, T* out, int H, int KV, int hd, int cap, int len,
                            int neox, float scale) {
    extern __shared__ float sm[];
    __shared__ float red[32];
    float* qs = sm;
    float* kn = sm + hd;
    float* vn = sm + 2 * hd;
    float* sc = sm + 3 * hd;
    const int b = blockIdx.x / H, h = blockIdx.x % H, rep = H / KV, kvh = h / rep, half_ = hd / 2;
    const T* row = qkv + (size_t)b * (H + 2 * KV) * hd;
    const T* qr = row + (size_t)h * hd;
    const T* kr = row + (size_t)(H + kvh) * hd;
    const T* vr = row + (size_t)(H + KV + kvh) * hd;
    for (int i = threadIdx.x; i < half_; i += blockDim.x) {
        const float c = cos[b * half_ + i], s = sin[b * half_ + i];
        const int a = neox ? i : 2 * i, bb = neox ? i + half_ : 2 * i + 1;
        float y0, y1;
        rotate(tof(qr[a]), tof(qr[bb]), c, s, &y0, &y1);
        qs[a] = y0 * scale;
        qs[bb] = y1 * scale;
        rotate(tof(kr[a]), tof(kr[bb]), c, s, &y0, &y1);
        // Rounded to the cache's type, as every earlier key was.
        kn[a] = tof(fromf<T>(y0));
        kn[bb] = tof(fromf<T>(y1));
    }
    for (int d = threadIdx.x; d < hd; d += blockDim.x) vn[d] = tof(vr[d]);
    __syncthreads();
    T* K = kc + ((size_t)b * KV + kvh) * cap * hd;
    T* V = vc + ((size_t)b * KV + kvh) * cap * hd;
    if (h % rep == 0) {
        for (int d = threadIdx.x; d < hd; d += blockDim.x) {
            K[(size_t)len * hd + d] = fromf<T>(kn[d]);
            V[(size_t)len * hd + d] = fromf<T>(vn[d]);
        }
    }
    const int pad = (int)pads[b], total = len + 1;
    float mx = -INFINITY;
    for (int t = threadIdx.x; t < total; t += blockDim.x) {
        float s = -INFINITY;
        if (t == len) {
            s = 0.f;
            for (int d = 0; d < hd; ++d) s += qs[d] * kn[d];
        } else if (t >= pad) {
            const T* k = K + (size_t)t * hd;
            s = 0.f;
            for (int d = 0; d < hd; ++d) s += qs[d] * tof(k[d]);
        }
        sc[t] = s;
        mx = fmaxf(mx, s);
    }
    mx = block_max(mx, red);
    float sum = 0.f;
    for (int t = threadIdx.x; t < total; t += blockDim.x) {
        const float e = sc[t] == -INFINITY ? 0.f : __expf(sc[t] - mx);
        sc[t] = e;
        sum += e;
    }
    sum = block_sum(sum, red);
    __syncthreads();
    const float inv = 1.f / sum;
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float acc = sc[len] * vn[d];
        for (int t = pad; t < len; ++t) acc += sc[t] * tof(V[(size_t)t * hd + d]);
        out[((size_t)b * H + h) * hd + d] = fromf<T>(acc * inv);
    }
}

// grid (rows), block 256: s = x + y; out[0, r] = s; out[1, r] = s / rms(s) * w.
template <typename T>
__device__ void add_rms(const T* x, const T* y, const T* w, T* out, int d, int rows, float eps) {
    __shared__ float red[32];
    const int r = blockIdx.x;
    const T* xr = x + (size_t)r * d;
    const T* yr = y + (size_t)r * d;
    T* sr = out + (size_t)r * d;
    T* nr = out + ((size_t)rows + r) * d;
    float ss = 0.f;
    for (int i = threadIdx.x; i < d; i += blockDim.x) {
        const T v = fromf<T>(tof(xr[i]) + tof(yr[i]));
        sr[i] = v;
        const float f = tof(v);
        ss += f * f;
    }
    ss = block_sum(ss, red);
    const float inv = rsqrtf(ss / d + eps);
    for (int i = threadIdx.x; i < d; i += blockDim.x) nr[i] = fromf<T>(tof(sr[i]) * inv * tof(w[i]));
}

// out[r, i] = silu(gu[r, i]) * gu[r, ff + i]; n = rows * ff threads in all.
template <typename T>
__device__ void silu_mul(const T* gu, T* out, int ff, size_t n) {
    const size_t k = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= n) return;
    const size_t r = k / ff, i = k % ff;
    const float g = tof(gu[r * 2 * ff + i]), u = tof(gu[r * 2 * ff + ff + i]);
    out[k] = fromf<T>(g / (1.f + __expf(-g)) * u);
}

// Eight consecutive elements of a row as floats (one 16-byte load for half, two for float).
__device__ __forceinline__ void load8(const __half* p, float* f) {
    const uint4 u = *reinterpret_cast<const uint4*>(p);
    const __half2* h = reinterpret_cast<const __half2*>(&u);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const float2 v = __half22float2(h[i]);
        f[2 * i] = v.x;
        f[2 * i + 1] = v.y;
    }
}
__device__ __forceinline__ void load8(const float* p, float* f) {
    const float4 a = *reinterpret_cast<const float4*>(p), b = *reinterpret_cast<const float4*>(p + 4);
    f[0] = a.x; f[1] = a.y; f[2] = a.z; f[3] = a.w;
    f[4] = b.x; f[5] = b.y; f[6] = b.z; f[7] = b.w;
}

#define GEMV_MAX_ROWS 16
// y[r, n] = sum_k x[r, k] * w[n, k] for rows <= GEMV_MAX_ROWS, k % 8 == 0. grid (n / 8),
// block 256: one warp per output column, its lanes striding over k eight at a time.
// SILU: the down projection with SiLU·mul folded in: x is gu, [rows, 2k] (gate then up), and
// x[r, i] = silu(gu[r, i]) * gu[r, k + i], rounded to T as the separate silu_mul stores it.
template <typename T, bool SILU>
__device__ void gemv(const T* x, const T* w, T* y, int rows, int n, int k) {
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int col = blockIdx.x * 8 + warp;
    if (col >= n) return;
    float acc[GEMV_MAX_ROWS];
#pragma unroll
    for (int r = 0; r < GEMV_MAX_ROWS; ++r) acc[r] = 0.f;
    const T* wr = w + (size_t)col * k;
    for (int i = lane * 8; i < k; i += 256) {
        float wf[8], xf[8];
        load8(wr + i, wf);
#pragma unroll
        for (int r = 0; r < GEMV_MAX_ROWS; ++r) {
            if (r < rows) {
                if (SILU) {
                    float uf[8];
                    load8(x + (size_t)r * 2 * k + i, xf);
                    load8(x + (size_t)r * 2 * k + k + i, uf);
#pragma unroll
                    for (int j = 0; j < 8; ++j) xf[j] = tof(fromf<T>(xf[j] / (1.f + __expf(-xf[j])) * uf[j]));
                } else {
                    load8(x + (size_t)r * k + i, xf);
                }
#pragma unroll
                for (int j = 0; j < 8; ++j) acc[r] += wf[j] * xf[j];
            }
        }
    }
#pragma unroll
    for (int r = 0; r < GEMV_MAX_ROWS; ++r) {
        if (r < rows) {
            const float v = warp_sum(acc[r]);
            if (lane == 0) y[(size_t)r * n + col] = fromf<T>(v);
        }
    }
}

#define PRECIS_KERNELS(T, S)                                                                              \
    extern "C" __global__ void attn_decode_##S(const T* qkv, const float* cos, const float* sin, T* kc,  \
                                               T* vc, const uint32_t* pads, T* out, int H, int KV,       \
                                               int hd, int cap, int len, int neox, float scale) {        \
        attn_decode<T>(qkv, cos, sin, kc, vc, pads, out, H, KV, hd, cap, len, neox, scale);               \
    }                                                                                                     \
    extern "C" __global__ void add_rms_##S(const T* x, const T* y, const T* w, T* out, int d, int rows,  \
                                           float eps) {                                                  \
        add_rms<T>(x, y, w, out, d, rows, eps);                                                           \
    }                                                                                                     \
    extern "C" __global__ void silu_mul_##S(const T* gu, T* out, int ff, size_t n) {                     \
        silu_mul<T>(gu, out, ff, n);                                                                      \
    }                                                                                                     \
    extern "C" __global__ void gemv_##S(const T* x, const T* w, T* y, int rows, int n, int k) {          \
        gemv<T, false>(x, w, y, rows, n, k);                                                              \
    }                                                                                                     \
    extern "C" __global__ void gemv_silu_##S(const T* gu, const T* w, T* y, int rows, int n, int k) {    \
        gemv<T, true>(gu, w, y, rows, n, k);                                                              \
    }

PRECIS_KERNELS(float, f32)
PRECIS_KERNELS(__half, f16)
