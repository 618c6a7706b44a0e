"""Every default of the client, in one place."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
API_KEY_ENV = "OPENROUTER_API_KEY"
BASE_URL_ENV = "OPENROUTER_BASE_URL"

# Timeouts, seconds. `read` is the longest silence while a response streams in; `total`
# bounds one attempt from the moment it holds a connection slot (queueing is not counted).
# No separate read limit by default: the total bounds every attempt, and aiohttp's read
# timer, re-armed on every chunk, cost a fifth of a create's CPU (benchmarks, c=64).
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT: float | None = None
DEFAULT_TOTAL_TIMEOUT = 60.0

# Connections: the client never opens more than this many at once, and queues the rest.
DEFAULT_MAX_CONNECTIONS = 64

# The largest response body read, counted after decompression. A full page of 100
# credentials is about 100 KB: 16 MiB leaves room for anything the API sends, while a
# hostile or broken server (a gzip bomb, an endless body) costs at most this much memory.
DEFAULT_MAX_RESPONSE_SIZE = 16 * 1024 * 1024

# Retries: bounded by attempts AND by time, never "an hour of retries on a 5xx".
DEFAULT_MAX_RETRIES = 3
DEFAULT_RETRY_DEADLINE = 60.0  # seconds from the first attempt; no retry would start later
DEFAULT_INITIAL_BACKOFF = 0.5  # the first retry waits up to this long (full jitter)
DEFAULT_MAX_BACKOFF = 8.0
DEFAULT_MAX_RETRY_AFTER = 30.0  # a longer Retry-After fails fast with RateLimitError
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

# Client-wide retry budget, after the AWS SDKs' retry quota: a retry spends tokens, a
# success earns one back, an empty bucket means "fail now" (the server is down). With
# these numbers a dead server sees at most ~200 retries from the whole client, however
# many tasks; a flaky one (a third of requests failing) never drains it, because every
# success pays back. (AWS spends 5 of 500 per retry: too few for 500 creates at once.)
RETRY_BUDGET_CAPACITY = 200.0
RETRY_COST = 1.0
RETRY_TIMEOUT_COST = 2.0
RETRY_SUCCESS_REFUND = 1.0

# Safe create: how far a credential's created_at may precede the client's clock at the
# first attempt and still count as "possibly ours" (clock skew between us and the API).
SAFE_CREATE_CLOCK_SKEW = 300.0

# The API's limits (tests/spec/byok.openapi.yaml): the client checks requests against
# them and the emulator enforces them, both from these names.
MAX_PAGE_SIZE = 100  # GET /byok `limit`: 1 to 100
DEFAULT_PAGE_SIZE = 50  # the server's `limit` when none is sent
NAME_MAX_LENGTH = 255  # `name`
ALLOWLIST_MAX_ITEMS = 100  # `allowed_models`, `allowed_user_ids`, `allowed_api_key_hashes`

# Listing: how many further pages to fetch at once.
DEFAULT_LIST_CONCURRENCY = 16

# Bulk creates.
DEFAULT_BULK_CONCURRENCY = 32
BULK_RATE_LIMIT_RETRIES = 12
# A bulk run retries each item's errors at least this often (the retry budget and the
# deadline still bound it): with a fifth of requests failing, 3 retries lose about one
# item in a thousand; 6 lose one in a hundred thousand.
BULK_ERROR_RETRIES = 6
