# Fits the GELU core of src/kernels/lib/vecmath.ts: erf(u) ≈ u·P(u²)/Q(u²) on [0, 4] (P degree 6, Q degree 5, Q(0) = 1)
# by iteratively reweighted linear least squares (Lawson), and reports GELU's relative error for x ≥ −1 when the rational
# is evaluated in float32 (Horner, unfused), as the kernel does. Run: /usr/bin/python3 scripts/fit-gelu.py (numpy only).
import math
import numpy as np

U, DP, DQ = 4.0, 6, 5
u = np.linspace(0, U, 20001)
f = np.array([math.erf(v) for v in u])
z = u * u


def fit():
    w = np.ones_like(u)
    best = None
    for _ in range(60):
        a = np.stack([u * z**i for i in range(DP + 1)] + [-f * z**j for j in range(1, DQ + 1)], 1)
        sol = np.linalg.lstsq(a * w[:, None], f * w, rcond=None)[0]
        p, q = sol[:DP + 1], np.concatenate([[1.0], sol[DP + 1:]])
        qv = sum(q[j] * z**j for j in range(DQ + 1))
        e = u * sum(p[i] * z**i for i in range(DP + 1)) / qv - f
        if best is None or np.max(np.abs(e)) < best[0]:
            best = (np.max(np.abs(e)), p.copy(), q.copy())
        w = w * np.sqrt(np.abs(e) + 1e-30)
        w = w / np.abs(qv)
        w = w / w.max()
    return best


err, p, q = fit()
f32 = np.float32
x = np.linspace(-1, 20, 210001).astype(f32)
uu = np.clip(x * f32(0.70710678), f32(-U), f32(U)).astype(f32)
zz = (uu * uu).astype(f32)
pv, qv = f32(p[-1]), f32(q[-1])
for c in p[-2::-1]:
    pv = (pv * zz + f32(c)).astype(f32)
for c in q[-2::-1]:
    qv = (qv * zz + f32(c)).astype(f32)
g = (x * (f32(0.5) + f32(0.5) * (uu * pv / qv).astype(f32))).astype(f32).astype(np.float64)
ref = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x.astype(np.float64)])
rel = np.abs(g - ref) / np.maximum(np.abs(ref), 1e-37)
print(f'erf absolute error (float64) {err:.2e}; GELU relative error (float32, x ≥ −1) {rel.max():.2e}')
print('P (highest first):', ', '.join(repr(float(f32(c))) for c in p[::-1]))
print('Q (highest first):', ', '.join(repr(float(f32(c))) for c in q[::-1]))
