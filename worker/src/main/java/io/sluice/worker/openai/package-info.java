/**
 * The built-in {@code openai} executor: {@link io.sluice.worker.openai.OpenAiExecutor} runs a leaf as streamed calls
 * to an OpenAI-compatible chat-completions endpoint ({@link io.sluice.worker.openai.EndpointConfig}, named endpoints
 * from {@link io.sluice.worker.openai.ExecutorConfigFile}), each call a step reserved at the prompt's proven upper
 * bound ({@link io.sluice.worker.openai.PromptBound}), capped at what is left of the grant and settled to the
 * provider's reported usage. It is also the worked example of the executor SPI ({@link io.sluice.worker.execute}).
 */
package io.sluice.worker.openai;
