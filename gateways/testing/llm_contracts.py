"""The documented contracts of the text-generation APIs, as the contract tests replay them.

OpenAI Chat Completions (also Azure OpenAI, Ollama, vLLM, LM Studio):
- Request and answer: https://platform.openai.com/docs/api-reference/chat/create
  (POST {base}/chat/completions, `Authorization: Bearer`, `messages`, `max_tokens` or
  `max_completion_tokens`; answer `choices[].message.content|refusal`, `finish_reason`, `usage`).
- Structured output: https://platform.openai.com/docs/guides/structured-outputs
  (`response_format: {"type": "json_schema", "json_schema": {"name", "schema", "strict": true}}`).
- Errors: https://platform.openai.com/docs/guides/error-codes (401 invalid key, 429 rate limit or
  `insufficient_quota`, 500/503); body `{"error": {"message", "type", "param", "code"}}`. The
  `retry-after-ms` header is observed in openai/openai-python `_base_client.py`.
- Azure: https://learn.microsoft.com/en-us/azure/ai-services/openai/reference
  (POST {endpoint}/openai/deployments/{deployment}/chat/completions?api-version=..., header `api-key`).
- Ollama: https://github.com/ollama/ollama/blob/main/docs/openai.md (base http://host:11434/v1, no key).

Anthropic Messages:
- https://docs.anthropic.com/en/api/messages (POST /v1/messages, `x-api-key`, `anthropic-version:
  2023-06-01`, `max_tokens` required; answer `content[]` blocks, `stop_reason`, `usage.input_tokens`,
  `usage.output_tokens`).
- Tool use for JSON: https://docs.anthropic.com/en/docs/build-with-claude/tool-use
  (`tools[].input_schema`, `tool_choice: {"type": "tool", "name"}`; answer block
  `{"type": "tool_use", "id", "name", "input"}`).
- Errors: https://docs.anthropic.com/en/api/errors (body `{"type": "error", "error": {"type",
  "message"}}`; 401 authentication_error, 429 rate_limit_error with `retry-after`, 500 api_error,
  529 overloaded_error).
"""

OPENAI_MODEL = "gpt-4o-mini-2024-07-18"
ANTHROPIC_MODEL = "claude-3-5-haiku-20241022"


def openai_completion(content: str | None, *, model: str = OPENAI_MODEL, finish_reason: str = "stop",
                      refusal: str | None = None, prompt_tokens: int = 120, completion_tokens: int = 40) -> dict:
    return {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion", "created": 1741570283,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": refusal},
                     "logprobs": None, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
        "system_fingerprint": "fp_06737a9306",
    }


def openai_error(message: str, *, type_: str, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


OPENAI_INVALID_KEY = openai_error("Incorrect API key provided: sk-...abcd.", type_="invalid_request_error",
                                  code="invalid_api_key")
OPENAI_RATE_LIMITED = openai_error("Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, "
                                   "Used 3, Requested 1.", type_="requests", code="rate_limit_exceeded")
OPENAI_QUOTA = openai_error("You exceeded your current quota, please check your plan and billing details.",
                            type_="insufficient_quota", code="insufficient_quota")
OPENAI_SERVER_ERROR = openai_error("The server had an error while processing your request.", type_="server_error")


def anthropic_message(content: list[dict], *, model: str = ANTHROPIC_MODEL, stop_reason: str = "end_turn",
                      input_tokens: int = 150, output_tokens: int = 60) -> dict:
    return {"id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}}


def anthropic_tool_use(name: str, tool_input: dict) -> dict:
    return {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": name, "input": tool_input}


def anthropic_error(type_: str, message: str) -> dict:
    return {"type": "error", "error": {"type": type_, "message": message}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}


ANTHROPIC_INVALID_KEY = anthropic_error("authentication_error", "invalid x-api-key")
ANTHROPIC_RATE_LIMITED = anthropic_error("rate_limit_error", "Number of request tokens has exceeded your per-minute "
                                                             "rate limit")
ANTHROPIC_OVERLOADED = anthropic_error("overloaded_error", "Overloaded")
ANTHROPIC_API_ERROR = anthropic_error("api_error", "Internal server error")
