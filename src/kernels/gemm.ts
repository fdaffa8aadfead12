// gemm kernels (placeholder until written).
