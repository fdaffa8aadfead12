// conv kernels (placeholder until written).
