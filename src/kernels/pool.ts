// pool kernels (placeholder until written).
