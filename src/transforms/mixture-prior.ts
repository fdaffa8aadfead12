// The Gaussian mixture prior of soft weight-sharing (Ullrich, Meeds & Welling 2017): its differentiable NLL, merging, quantisation.
import { checkOptions as checkKeys, quote } from '../core/errors.js';
import { keep } from '../core/engine.js';
import { add, concat, exp, log, max, mul, neg, reshape, square, sub, sum, tensor } from '../core/ops/index.js';
import type { Tensor } from '../core/tensor.js';
import { kmeans1d } from '../sharing/kmeans.js';

/** A Gamma(α, β) hyper-prior on a component's precision λ = 1/σ²: −log p(λ) = (1 − α)·log λ + β·λ + const. */
export type GammaPrior = readonly [alpha: number, beta: number];

/** The mixture's initial state and hyper-priors; J = `components` (the zero component included). */
export interface MixturePriorOptions {
  /** J ≥ 2: the zero component (mean 0, fixed) plus J − 1 learned ones (the paper: 17 for LeNets; its tutorial 16). */
  components: number;
  /** The zero component's mixing proportion π₀ in (0, 1), fixed (the tutorial 0.99; the paper 0.999). */
  pi0: number;
  /** The J − 1 initial means of the learned components (default: the 1-D k-means centroids, linear init, of the weights the zero component does not cover). */
  means?: readonly number[];
  /**
   * The J initial variances (the zero component first), each > 0 (default: the zero component's (q/4)², q the π₀ quantile of
   * |w|, so that it starts as a soft magnitude pruning; the others (half the distance to the nearest other mean)²).
   */
  variances?: readonly number[];
  /** The J initial mixing proportions (π₀ first, equal to `pi0`), each > 0, summing to 1 (default: π₀, then (1 − π₀)/(J − 1) each). */
  proportions?: readonly number[];
  /** Gamma hyper-priors on the precisions: the zero component's and the others' (default [5000, 2] and [250, 0.1], the tutorial's). */
  gamma?: { zero?: GammaPrior; others?: GammaPrior };
}

/** A mixture's values: J means, variances and proportions, the zero component first (mean 0). */
export interface MixtureState {
  means: number[];
  variances: number[];
  proportions: number[];
}

const LOG_2PI = Math.log(2 * Math.PI);

/** The `p` quantile of |values| (0 for none). */
function quantileAbs(values: Float32Array, p: number): number {
  if (!values.length) return 0;
  const a = Float32Array.from(values, Math.abs).sort();
  return a[Math.min(a.length - 1, Math.floor(p * a.length))];
}

/** k means for the weights `values` beyond the zero component: their 1-D k-means (linear init), or evenly over ±2q when too few are distinct. */
function defaultMeans(values: Float32Array, k: number, q: number): number[] {
  if (new Set(values).size <= k) {
    const r = Math.max(q, 1e-3);
    return Array.from({ length: k }, (_, i) => -2 * r + (4 * r * (i + 0.5)) / k);
  }
  return [...kmeans1d(values, k, { init: 'linear', seed: 0 }).centroids].sort((a, b) => a - b);
}

/** The most components a prior may have (Ullrich et al. use 17; a 256-component prior already makes 8-bit indices). */
export const MAX_COMPONENTS = 256;

/** Checks the options against the initial weights; a one-line RangeError names the option (`who: option …`). */
function checkOptions(who: string, o: MixturePriorOptions): void {
  const J = o.components;
  if (!Number.isInteger(J) || J < 2) throw new RangeError(`${who}: components must be an integer ≥ 2 (the zero component and at least one more), got ${quote(J)}`);
  if (typeof o.pi0 !== 'number' || !(o.pi0 > 0 && o.pi0 < 1)) throw new RangeError(`${who}: pi0 must be in (0, 1), got ${quote(o.pi0)}`);
  const list = (name: string, v: readonly number[] | undefined, n: number): void => {
    if (v === undefined) return;
    if (!Array.isArray(v) || v.length !== n || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      throw new RangeError(`${who}: ${name} must be ${n} finite numbers, got ${quote(v)}`);
    }
  };
  list('means', o.means, J - 1);
  list('variances', o.variances, J);
  list('proportions', o.proportions, J);
  const bad = o.variances?.findIndex((v) => !(v > 0)) ?? -1;
  if (bad >= 0) throw new RangeError(`${who}: variances must be > 0, got ${o.variances![bad]} for component ${bad}`);
  if (o.proportions) {
    const p = o.proportions, total = p.reduce((a, b) => a + b, 0);
    const k = p.findIndex((v) => !(v > 0));
    if (k >= 0) throw new RangeError(`${who}: proportions must be > 0, got ${p[k]} for component ${k}`);
    if (Math.abs(total - 1) > 1e-6) throw new RangeError(`${who}: proportions must sum to 1, got ${total} (${p.join(', ')})`);
    if (Math.abs(p[0] - o.pi0) > 1e-9) throw new RangeError(`${who}: proportions[0] is the zero component's, fixed at pi0 ${o.pi0}, got ${p[0]}`);
  }
  // { zeros: … } was ignored (the default prior ran), and gamma: 5 read as no gamma.
  if (o.gamma !== undefined) checkKeys(`${who}: gamma`, o.gamma, ['zero', 'others']);
  for (const [name, g] of Object.entries(o.gamma ?? {})) {
    if (g === undefined) continue;
    if (!Array.isArray(g) || g.length !== 2 || !(g[0] > 0 && g[1] > 0) || !Number.isFinite(g[0]) || !Number.isFinite(g[1])) {
      throw new RangeError(`${who}: gamma.${name} must be [alpha, beta] with both finite and > 0, got ${quote(g)}`);
    }
  }
}

/**
 * A Gaussian mixture prior p(w) = Σ_j π_j N(w | μ_j, 1/λ_j) over the elements of one or several weights, with a zero
 * component (μ₀ = 0 and π₀ fixed) and J − 1 learned ones: trainable tensors `means` [J − 1], `gammas` = log λ [J] and
 * `rhos` [J − 1], the logits of the other proportions (π_j = (1 − π₀)·softmax(ρ)_j). Call {@link dispose} when done.
 */
export class MixturePrior {
  readonly components: number;
  readonly pi0: number;
  readonly means: Tensor;
  readonly gammas: Tensor;
  readonly rhos: Tensor;
  private readonly alpha: Float32Array;
  private readonly beta: Float32Array;

  /** A prior fitted to start at `values` (the weights it will govern; for the default means and variances); `who` names the caller in errors. */
  constructor(values: Float32Array, o: MixturePriorOptions, who = 'mixture prior') {
    checkOptions(who, o);
    const J = o.components;
    if (J > MAX_COMPONENTS) throw new RangeError(`${who}: components must be at most ${MAX_COMPONENTS}, got ${J} (each step costs weights × components, and the start components²)`);
    this.components = J;
    this.pi0 = o.pi0;
    // Defaults: the zero component starts as a soft magnitude pruning, σ₀ = q/4 with q the π₀ quantile of |w| (its ±2σ₀
    // covers the weights below q/2); the other means are the 1-D k-means centroids of the weights beyond q/2 (linear
    // init), each component as wide as half the distance to the nearest other mean (0 included).
    const q = quantileAbs(values, o.pi0);
    const means = o.means ?? defaultMeans(values.filter((v) => Math.abs(v) >= q / 2), J - 1, q);
    const centres = [0, ...means];
    const variances = o.variances ?? centres.map((m, j) => {
      if (j === 0 && !o.means) return Math.max((q / 4) ** 2, 1e-8);
      const gap = Math.min(...centres.filter((_, k) => k !== j).map((x) => Math.abs(x - m)));
      return Math.max((gap / 2) ** 2, 1e-8);
    });
    const props = o.proportions ?? [o.pi0, ...new Array<number>(J - 1).fill((1 - o.pi0) / (J - 1))];
    this.means = keep(tensor(Float32Array.from(means), [J - 1]));
    this.gammas = keep(tensor(Float32Array.from(variances, (v) => -Math.log(v)), [J]));
    this.rhos = keep(tensor(Float32Array.from(props.slice(1), (p) => Math.log(p)), [J - 1]));
    const zero = o.gamma?.zero ?? [5000, 2], others = o.gamma?.others ?? [250, 0.1];
    this.alpha = Float32Array.from({ length: J }, (_, j) => (j === 0 ? zero : others)[0]);
    this.beta = Float32Array.from({ length: J }, (_, j) => (j === 0 ? zero : others)[1]);
  }

  /** The trainable tensors, by group: means, log precisions (gammas), mixing logits (rhos). */
  parameters(): { means: Tensor; gammas: Tensor; rhos: Tensor } {
    return { means: this.means, gammas: this.gammas, rhos: this.rhos };
  }

  /**
   * −Σ_i log p(w_i) over every element of `weights`, plus the Gamma hyper-priors' −log p(λ) (up to constants), as a
   * scalar on the tape (see {@link mixtureNegLogLikelihood}).
   */
  negLogLikelihood(weights: readonly Tensor[]): Tensor {
    return mixtureNegLogLikelihood(weights, this, { pi0: this.pi0, alpha: this.alpha, beta: this.beta });
  }

  /** The current values: means (0 first), variances 1/λ and proportions (π₀ first). */
  state(): MixtureState {
    const means = [0, ...this.means.f32()];
    const variances = [...this.gammas.f32()].map((g) => Math.exp(-g));
    const rho = [...this.rhos.f32()];
    const top = Math.max(...rho);
    const e = rho.map((r) => Math.exp(r - top));
    const z = e.reduce((a, b) => a + b, 0);
    return { means, variances, proportions: [this.pi0, ...e.map((v) => ((1 - this.pi0) * v) / z)] };
  }

  dispose(): void {
    this.means.dispose();
    this.gammas.dispose();
    this.rhos.dispose();
  }
}

/**
 * −Σ_i log Σ_j π_j N(w_i | μ_j, 1/λ_j) over every element of `weights`, plus Σ_j (1 − α_j)·log λ_j + β_j·λ_j (the Gamma
 * hyper-priors' −log p(λ) up to constants), as a scalar on the tape, differentiable in the weights and in `means`
 * [J − 1] (μ₀ = 0), `gammas` = log λ [J] and `rhos` [J − 1] (π = [π₀, (1 − π₀)·softmax(ρ)]). The logsumexp over the
 * components is shifted by its maximum; memory: a few [elements, J] temporaries per weight.
 */
export function mixtureNegLogLikelihood(
  weights: readonly Tensor[], p: { means: Tensor; gammas: Tensor; rhos: Tensor }, h: { pi0: number; alpha: Float32Array; beta: Float32Array },
): Tensor {
  const J = p.gammas.size;
  const m0 = max(p.rhos, 0, true);
  const lseRho = add(m0, log(sum(exp(sub(p.rhos, m0)), 0, true)));
  const logPi = concat([tensor([Math.log(h.pi0)], [1]), add(sub(p.rhos, lseRho), Math.log(1 - h.pi0))]);
  const mu = reshape(concat([tensor([0], [1]), p.means]), [1, J]);
  const lambda = exp(p.gammas);
  // a_ij = log π_j + ½ log λ_j − ½ log 2π − ½ λ_j (w_i − μ_j)²: the constant part per component, then the quadratic.
  const c = reshape(add(add(logPi, mul(p.gammas, 0.5)), -0.5 * LOG_2PI), [1, J]);
  const halfLambda = reshape(mul(lambda, -0.5), [1, J]);
  let total: Tensor | undefined;
  for (const w of weights) {
    const a = add(c, mul(square(sub(reshape(w, [w.size, 1]), mu)), halfLambda));
    const m = max(a, 1, true);
    const lse = add(m, log(sum(exp(sub(a, m)), 1, true)));
    const nll = neg(sum(lse));
    total = total ? add(total, nll) : nll;
  }
  const hyper = sum(add(mul(p.gammas, tensor(h.alpha.map((a) => 1 - a), [J])), mul(lambda, tensor(h.beta, [J]))));
  return total ? add(total, hyper) : hyper;
}

/** KL(N(μp, vp) ‖ N(μq, vq)). */
function kl(mp: number, vp: number, mq: number, vq: number): number {
  return 0.5 * (Math.log(vq / vp) + (vp + (mp - mq) ** 2) / vq - 1);
}

/**
 * Merges components whose symmetric KL divergence ½(KL(p‖q) + KL(q‖p)) is below `threshold`, closest pair first,
 * until none is: the merged component has the summed proportion and the proportion-weighted mean and variance; a
 * component merged with the zero component keeps mean 0 (it becomes part of it). Returns a new state, zero first.
 */
export function mergeComponents(s: MixtureState, threshold: number): MixtureState {
  const c = s.means.map((m, j) => ({ m, v: s.variances[j], p: s.proportions[j] }));
  for (;;) {
    let best = Infinity, bi = -1, bj = -1;
    for (let i = 0; i < c.length; i++) for (let j = i + 1; j < c.length; j++) {
      const d = 0.5 * (kl(c[i].m, c[i].v, c[j].m, c[j].v) + kl(c[j].m, c[j].v, c[i].m, c[i].v));
      if (d < best) (best = d), (bi = i), (bj = j);
    }
    if (!(best < threshold)) break;
    const a = c[bi], b = c[bj], p = a.p + b.p;
    c[bi] = { m: bi === 0 ? 0 : (a.p * a.m + b.p * b.m) / p, v: (a.p * a.v + b.p * b.v) / p, p };
    c.splice(bj, 1);
  }
  return { means: c.map((x) => x.m), variances: c.map((x) => x.v), proportions: c.map((x) => x.p) };
}

/**
 * The most responsible component of each value under the mixture (argmax_j of log π_j + ½ log λ_j − ½ λ_j (w − μ_j)²,
 * ties to the lower index): 0 is the zero component.
 */
export function responsibleComponents(values: Float32Array, s: MixtureState): Int32Array {
  const J = s.means.length;
  const c = s.means.map((_, j) => Math.log(s.proportions[j]) - 0.5 * Math.log(s.variances[j]));
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    let best = -Infinity, arg = 0;
    for (let j = 0; j < J; j++) {
      const a = c[j] - (0.5 * (values[i] - s.means[j]) ** 2) / s.variances[j];
      if (a > best) (best = a), (arg = j);
    }
    out[i] = arg;
  }
  return out;
}
