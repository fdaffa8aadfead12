# Fits GELU's polynomial in src/kernels/lib/vecmath.ts: erfc(u) = t·R(t)·e^(−u²) for u = b/√2, b in [0, 17],
# t = 2√2/(2√2 + b) (Numerical Recipes' erfcc form), R of degree 8 in t, by iteratively reweighted least squares on the
# relative error (Lawson); then evaluates GELU x·Φ(x) and its slope Φ(x) + x·φ(x) in float32 as the kernel does (Horner,
# unfused; e^(−x²/2) taken exact here, the kernel's exp adds ≲ 1 ulp) and reports their relative errors.
# Run: /usr/bin/python3 scripts/fit-gelu.py (numpy only).
import math
import numpy as np

C, B, D = 2.0 * math.sqrt(2.0), 17.0, 8
b = np.linspace(0, B, 400001)
t = C / (C + b)
R = np.array([math.erfc(v / math.sqrt(2.0)) * math.exp(v * v / 2.0) for v in b]) / t


def fit():
    w = np.ones_like(t)
    best = None
    for _ in range(40):
        a = np.stack([t**i for i in range(D + 1)], 1)
        c = np.linalg.lstsq(a * (w / R)[:, None], w, rcond=None)[0]
        e = (a @ c - R) / R
        if best is None or np.max(np.abs(e)) < best[0]:
            best = (np.max(np.abs(e)), c.copy())
        w = w * np.sqrt(np.abs(e) + 1e-30)
        w = w / w.max()
    return best


err, c = fit()
f32 = np.float32
x = np.linspace(-17, 17, 340001).astype(f32)
bb = np.abs(x)
tt = (f32(C) / (f32(C) + bb)).astype(f32)
r = f32(c[-1])
for k in c[-2::-1]:
    r = (r * tt + f32(k)).astype(f32)
e = np.exp(-(bb.astype(np.float64) ** 2) / 2).astype(f32)
h = ((tt * r).astype(f32) * (e * f32(0.5)).astype(f32)).astype(f32)
phi = np.where(x < 0, h, (f32(1) - h).astype(f32))
x64 = x.astype(np.float64)
cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x64])
gelu = (x * phi).astype(f32).astype(np.float64)
slope = (phi + (x * (e * f32(0.3989422804014327)).astype(f32)).astype(f32)).astype(f32).astype(np.float64)
ref_slope = cdf + x64 * np.exp(-x64 * x64 / 2) / math.sqrt(2 * math.pi)
tiny = 1e-37
rel = np.abs(gelu - x64 * cdf) / np.maximum(np.abs(x64 * cdf), tiny)
# The slope crosses 0 near x = −0.75: measured against its scale there, Φ(x) + |x|·φ(x).
rel_slope = np.abs(slope - ref_slope) / np.maximum(cdf + np.abs(x64) * np.exp(-x64 * x64 / 2) / math.sqrt(2 * math.pi), tiny)
print(f'R relative error (float64) {err:.2e}; in float32: GELU relative error {rel.max():.2e}, slope {rel_slope.max():.2e} (x in [−17, 17])')
print('R (highest first):', ', '.join(repr(float(f32(k))) for k in c[::-1]))
