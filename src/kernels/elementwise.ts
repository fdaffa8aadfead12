// elementwise kernels (placeholder until written).
