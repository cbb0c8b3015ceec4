// precis's fused CUDA kernels for the dense model's decode step (one new token per row).
// Built to PTX by build.rs under the `cuda` feature and loaded by dense/fused.rs.
// Math in float; storage in float or half. Layouts:
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

// grid (B, H + 2*KV), block hd/2: rotate q and k, scale q into q_out (float [B, H, hd]),
// store k and v in the cache.
template <typename T>
__device__ void rope_store(const T* qkv, const float* cos, const float* sin, float* q_out, T* kc, T* vc,
                           int H, int KV, int hd, int cap, int len, int neox, float scale) {
    const int r = blockIdx.x, head = blockIdx.y, i = threadIdx.x, half_ = hd / 2;
    if (i >= half_) return;
    const T* src = qkv + ((size_t)r * (H + 2 * KV) + head) * hd;
    if (head >= H + KV) {
        T* dst = vc + (((size_t)r * KV + (head - H - KV)) * cap + len) * hd;
        dst[i] = src[i];
        dst[i + half_] = src[i + half_];
        return;
    }
    const float c = cos[r * half_ + i], s = sin[r * half_ + i];
    const int a = neox ? i : 2 * i, b = neox ? i + half_ : 2 * i + 1;
    const float x0 = tof(src[a]), x1 = tof(src[b]);
    const float y0 = x0 * c - x1 * s, y1 = x0 * s + x1 * c;
    if (head < H) {
        float* dst = q_out + ((size_t)r * H + head) * hd;
        dst[a] = y0 * scale;
        dst[b] = y1 * scale;
    } else {
        T* dst = kc + (((size_t)r * KV + (head - H)) * cap + len) * hd;
        dst[a] = fromf<T>(y0);
        dst[b] = fromf<T>(y1);
    }
}

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

// grid (B * H), block 128, dynamic shared memory (hd + total) floats: one query row
// against keys 0..total-1 of its KV head; keys left of the row's padding are masked
// (the row's own newest key never is). out: [B, H * hd].
template <typename T>
__device__ void attn_decode(const float* q, const T* kc, const T* vc, const uint32_t* pads, T* out,
                            int H, int KV, int hd, int cap, int total) {
    extern __shared__ float sm[];
    __shared__ float red[32];
    float* qs = sm;
    float* sc = sm + hd;
    const int b = blockIdx.x / H, h = blockIdx.x % H, kvh = h / (H / KV);
    const float* qr = q + ((size_t)b * H + h) * hd;
    for (int d = threadIdx.x; d < hd; d += blockDim.x) qs[d] = qr[d];
    __syncthreads();
    const T* K = kc + ((size_t)b * KV + kvh) * cap * hd;
    const T* V = vc + ((size_t)b * KV + kvh) * cap * hd;
    const int pad = (int)pads[b], me = total - 1;
    float mx = -INFINITY;
    for (int t = threadIdx.x; t < total; t += blockDim.x) {
        float s = -INFINITY;
        if (t >= pad || t == me) {
            const T* kr = K + (size_t)t * hd;
            s = 0.f;
            for (int d = 0; d < hd; ++d) s += qs[d] * tof(kr[d]);
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
        float acc = 0.f;
        for (int t = 0; t < total; ++t) acc += sc[t] * tof(V[(size_t)t * hd + d]);
        out[((size_t)b * H + h) * hd + d] = fromf<T>(acc * inv);
    }
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

#define PRECIS_KERNELS(T, S)                                                                              \
    extern "C" __global__ void rope_store_##S(const T* qkv, const float* cos, const float* sin, float* q, \
                                              T* kc, T* vc, int H, int KV, int hd, int cap, int len,     \
                                              int neox, float scale) {                                   \
        rope_store<T>(qkv, cos, sin, q, kc, vc, H, KV, hd, cap, len, neox, scale);                        \
    }                                                                                                     \
    extern "C" __global__ void attn_decode_##S(const float* q, const T* kc, const T* vc,                 \
                                               const uint32_t* pads, T* out, int H, int KV, int hd,      \
                                               int cap, int total) {                                     \
        attn_decode<T>(q, kc, vc, pads, out, H, KV, hd, cap, total);                                      \
    }                                                                                                     \
    extern "C" __global__ void silu_mul_##S(const T* gu, T* out, int ff, size_t n) {                     \
        silu_mul<T>(gu, out, ff, n);                                                                      \
    }

PRECIS_KERNELS(float, f32)
PRECIS_KERNELS(__half, f16)
