//! precis's own CPU inference path (quantised kernels, thread pool, forward pass).
//! Placeholder until the kernels land; nothing here is used yet.
