import type { Command } from 'commander';

/**
 * Declares `kennel serve` and its flags. Imports nothing heavy: the server (and TensorFlow.js)
 * loads only when the subcommand runs. Flags mirror config.ts; unset flags fall back to the
 * environment (PORT, KENNEL_MODEL_URI, ...) and then to defaults.
 */
export function addServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve a model artifact over HTTP: /predict, KServe v1, Open Inference v2, /metrics, a try-it page at /')
    .option('--model <uri>', 'model artifact prefix (file:// or gs://); env KENNEL_MODEL_URI')
    .option('--port <n>', 'port to listen on (env PORT; default 8080)')
    .option('--host <addr>', 'address to listen on (default 0.0.0.0)')
    .option('--model-name <name>', 'served model name (default: second-last URI segment)')
    .option('--model-version <version>', 'served model version (default: last URI segment)')
    .option('--workers <n>', 'model worker threads, each with its own model copy; 0 = main thread (default 2)')
    .option('--backend <name>', 'TensorFlow.js backend preference: auto, tensorflow, wasm, cpu (default auto)')
    .option('--max-batch-size <n>', 'largest micro-batch (default 8)')
    .option('--max-wait-ms <ms>', 'longest a request waits for batch companions (default 2)')
    .option('--max-in-flight <n>', 'prediction requests handled at once; beyond it a request gets 503 Overloaded with Retry-After before its body is read (default 64)')
    .option('--max-queue <n>', 'images allowed to wait before requests are shed with 503 (default 1024)')
    .option('--max-image-bytes <n>', 'largest image upload (default 10 MiB)')
    .option('--max-json-bytes <n>', 'largest JSON body (default 16 MiB)')
    .option('--max-instances <n>', 'most images in one KServe/Open Inference request (default 32)')
    .option('--max-pixels <n>', 'largest decoded width×height, the decompression-bomb guard (default 50000000)')
    .option('--load-timeout-seconds <s>', 'a model not ready after this long has failed to load (default 300)')
    .option('--failed-exit-seconds <s>', 'after a failed load, exit 1 after this long (default 60)')
    .option('--shutdown-timeout-seconds <s>', 'on SIGTERM, time for in-flight requests (default 25)')
    .option('--min-confidence <p>', 'below this top-class probability answer label null, with the probabilities (0..1; env KENNEL_MIN_CONFIDENCE; default 0: always a label)')
    .option('--feedback-capacity <n>', 'predictions remembered as answered by /feedback, so a repeat is refused (default 100000)')
    .option('--feedback-ttl-seconds <s>', 'how long a prediction accepts feedback (default 2592000, 30 days)')
    .option('--prediction-log <uri>', 'keep every prediction and feedback under this prefix (file://, gs:// or a path); servers sharing it accept each other\'s feedback; env KENNEL_PREDICTION_LOG')
    .option('--image-sample-rate <x>', 'share of predictions whose image is stored in the prediction log, 0..1 (default 0); env KENNEL_IMAGE_SAMPLE_RATE')
    .option('--log-flush-seconds <s>', 'a prediction log batch is written at most this long after its first record (default 5)')
    .option('--log-buffer-bytes <n>', 'unwritten prediction records kept while storage fails; beyond it they are dropped and counted (default 64 MiB)')
    .option('--log-image-buffer-bytes <n>', 'the same bound for sampled images (default 64 MiB)')
    .option('--log-flush-timeout-seconds <s>', 'on SIGTERM, time to write the prediction log after the last request (default 10)')
    .action(async (opts: Record<string, string | undefined>) => (await import('./command.js')).run(opts));
}
