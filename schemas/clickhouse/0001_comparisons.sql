-- One row per (event, candidate): what production and the candidate answered and how they differ.
-- ReplacingMergeTree(row_version): a replayed or re-scored event replaces its earlier row;
-- read with FINAL (or argMax by row_version) to see each (event, candidate) once.
CREATE TABLE IF NOT EXISTS ${database}.comparisons
(
    -- identity
    event_id                    String,
    candidate                   LowCardinality(String),
    candidate_role              LowCardinality(String),
    candidate_provider          LowCardinality(String),
    candidate_model             LowCardinality(String),
    production_model            LowCardinality(String),
    api                         LowCardinality(String),
    workflow                    LowCardinality(String),
    service                     LowCardinality(String),
    environment                 LowCardinality(String),
    tenant                      String,
    subject                     String,
    occurred_at                 DateTime64(3, 'UTC'),
    compared_at                 DateTime64(3, 'UTC'),
    config_version              LowCardinality(String),
    prompt_version              LowCardinality(String),
    tags                        Map(LowCardinality(String), String),
    source_position             String,

    -- outcome: ok | candidate_error | production_error | both_error
    status                      LowCardinality(String),
    error_kind                  LowCardinality(String),
    http_status                 UInt16,
    error_message               String,
    attempts                    UInt8,

    -- latency, tokens, cost
    production_latency_ms       Float64,
    candidate_latency_ms        Float64,
    latency_ratio               Nullable(Float64),
    production_input_tokens     Nullable(UInt32),
    production_output_tokens    Nullable(UInt32),
    candidate_input_tokens      Nullable(UInt32),
    candidate_output_tokens     Nullable(UInt32),
    production_cost_usd         Nullable(Float64),
    candidate_cost_usd          Nullable(Float64),
    cost_ratio                  Nullable(Float64),

    -- JSON family
    production_json_valid       Nullable(Bool),
    candidate_json_valid        Nullable(Bool),
    production_json_extracted   Nullable(Bool),
    candidate_json_extracted    Nullable(Bool),
    production_schema_valid     Nullable(Bool),
    candidate_schema_valid      Nullable(Bool),
    candidate_schema_errors     Array(String),
    json_equal                  Nullable(Bool),
    json_diff_paths             Array(String),
    json_diff_kinds             Array(LowCardinality(String)),

    -- length family
    production_chars            Nullable(UInt32),
    candidate_chars             Nullable(UInt32),
    production_words            Nullable(UInt32),
    candidate_words             Nullable(UInt32),
    length_ratio                Nullable(Float64),
    word_ratio                  Nullable(Float64),
    output_token_ratio          Nullable(Float64),

    -- tool-call family
    production_tool_calls       Nullable(UInt16),
    candidate_tool_calls        Nullable(UInt16),
    tool_names_match            Nullable(Bool),
    tool_args_match             Nullable(Bool),
    candidate_tool_args_valid   Nullable(Bool),
    candidate_tool_schema_valid Nullable(Bool),
    candidate_tool_schema_errors Array(String),
    tool_diff_paths             Array(String),
    tool_diff_kinds             Array(LowCardinality(String)),
    tool_precision              Nullable(Float64),
    tool_recall                 Nullable(Float64),
    tool_f1                     Nullable(Float64),
    tool_name_f1                Nullable(Float64),
    tool_vs_text                Nullable(Bool),

    -- similarity family
    similarity                  Nullable(Float64),
    levenshtein_similarity      Nullable(Float64),
    token_set_similarity        Nullable(Float64),

    -- behaviour family
    production_finish_reason    LowCardinality(String),
    candidate_finish_reason     LowCardinality(String),
    finish_reason_changed       Nullable(Bool),
    truncated                   Nullable(Bool),
    production_refusal          Nullable(Bool),
    candidate_refusal           Nullable(Bool),
    new_refusal                 Nullable(Bool),
    production_empty            Nullable(Bool),
    candidate_empty             Nullable(Bool),

    -- the outputs themselves (redacted, size-capped), for reading and re-scoring
    production_text             String CODEC(ZSTD(3)),
    candidate_text              String CODEC(ZSTD(3)),
    production_output           String CODEC(ZSTD(3)),
    candidate_output            String CODEC(ZSTD(3)),
    request_context             String CODEC(ZSTD(3)),

    comparator_version          UInt16,
    row_version                 UInt64
)
ENGINE = ReplacingMergeTree(row_version)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (workflow, candidate, toStartOfHour(occurred_at), event_id)
TTL toDateTime(occurred_at) + INTERVAL ${ttl_days} DAY
