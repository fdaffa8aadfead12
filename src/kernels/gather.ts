// gather kernels (placeholder until written).
