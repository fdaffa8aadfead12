#!/usr/bin/env python3
"""Fits the rational tanh of src/kernels/lib/gates.ts and checks it in float32 (numpy only).

tanh(x) ~ x * P(x^2) / Q(x^2) on [0, 9] (odd; |x| clamped to 9, where float32 tanh is within an ulp of 1), P and Q of
degree 4, q0 = 1, minimising the largest relative error: linearised least squares (Sanathanan-Koerner: the residual
x P - tanh Q divided by the previous Q), reweighted towards the worst points (Lawson) until the error levels off.
The kernels evaluate it with the coefficients rounded to float32, by Horner's rule, one multiply and one add per step,
and sigmoid(x) as 0.5 + 0.5 tanh(x / 2); both are checked here in float32 against float64 references.

Usage: /usr/bin/python3 scripts/fit-gate-activations.py   (prints the coefficients and the errors)
"""
import numpy as np

XMAX = 9.0
DEG = 4


def fit(iters=100):
    x = np.concatenate([np.linspace(1e-4, XMAX, 20000), np.geomspace(1e-6, 1e-4, 200)])
    f = np.tanh(x)
    z = x * x
    q_prev = np.ones_like(x)
    w = np.ones_like(x)
    best = None
    for _ in range(iters):
        a = np.concatenate([np.stack([x * z**k for k in range(DEG + 1)], 1), np.stack([-f * z**k for k in range(1, DEG + 1)], 1)], 1)
        s = np.sqrt(w) / (f * q_prev)
        c, *_ = np.linalg.lstsq(a * s[:, None], f * s, rcond=None)
        p, q = c[:DEG + 1], np.concatenate([[1.0], c[DEG + 1:]])
        q_prev = np.polyval(q[::-1], z)
        err = np.abs(x * np.polyval(p[::-1], z) / q_prev / f - 1)
        if best is None or err.max() < best[0]:
            best = (err.max(), p.copy(), q.copy())
        w = w * np.sqrt(err / err.max()) + 1e-300
        w /= w.sum()
    return best


def tanh32(p, q, x):
    """The kernel's arithmetic in float32: clamp, two Horner chains, one division, clamp to [-1, 1]."""
    f = np.float32
    x = np.minimum(np.maximum(x.astype(f), f(-XMAX)), f(XMAX))
    z = (x * x).astype(f)
    pv, qv = f(p[-1]), f(q[-1])
    for k in range(DEG - 1, -1, -1):
        pv = (pv * z).astype(f) + f(p[k])
        qv = (qv * z).astype(f) + f(q[k])
    return np.minimum(np.maximum(((x * pv).astype(f) / qv).astype(f), f(-1)), f(1))


def main():
    err, p, q = fit()
    p32, q32 = [np.float32(v) for v in p], [np.float32(v) for v in q]
    print(f"fit (float64): max relative error {err:.2e}")
    print("P (x^0 .. x^8):", ", ".join(f"{v:.9g}" for v in p32))
    print("Q (x^0 .. x^8):", ", ".join(f"{v:.9g}" for v in q32))
    xs = np.concatenate([np.linspace(-12, 12, 400001), np.geomspace(1e-30, 1, 2000), -np.geomspace(1e-30, 1, 2000)]).astype(np.float32)
    t = np.tanh(xs.astype(np.float64))
    r = tanh32(p32, q32, xs).astype(np.float64)
    ulp = np.abs(r - t) / np.spacing(np.abs(t).astype(np.float32)).astype(np.float64)
    print(f"tanh in float32: max error {ulp.max():.1f} ulp (relative {(np.abs(r - t) / np.maximum(np.abs(t), 1e-38)).max():.2e})")
    xs = np.linspace(-40, 40, 800001).astype(np.float32)
    s = 1 / (1 + np.exp(-xs.astype(np.float64)))
    half = np.float32(0.5)
    sg = (half + (half * tanh32(p32, q32, (xs * half).astype(np.float32))).astype(np.float32)).astype(np.float64)
    print(f"sigmoid in float32: max absolute error {np.abs(sg - s).max():.2e}, range [{sg.min()}, {sg.max()}]")


if __name__ == "__main__":
    main()
