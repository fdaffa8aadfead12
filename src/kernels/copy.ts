// copy kernels (placeholder until written).
