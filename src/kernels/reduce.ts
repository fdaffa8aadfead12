// reduce kernels (placeholder until written).
