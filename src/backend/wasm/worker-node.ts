// The worker_threads entry of the pool (Node): serves the jobs of the pool that started it with its workerData.
import { workerData } from 'node:worker_threads';
import type { WorkerInit } from './threads.js';
import { serve } from './worker-serve.js';

serve(workerData as WorkerInit);
