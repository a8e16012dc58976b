# fish completion for orbitmesh
set -l cmds serve agent run status replay job workflow event twin token version completions
complete -c orbitmesh -f
complete -c orbitmesh -n "not __fish_seen_subcommand_from $cmds" -a "$cmds"
complete -c orbitmesh -n "__fish_seen_subcommand_from job; and not __fish_seen_subcommand_from submit get cancel logs list retry" -a "submit get cancel logs list retry"
complete -c orbitmesh -n "__fish_seen_subcommand_from status" -a "agents jobs runs"
complete -c orbitmesh -n "__fish_seen_subcommand_from workflow" -a "validate test register list cancel pause resume approve rerun triggers"
complete -c orbitmesh -n "__fish_seen_subcommand_from test" -l cases -d "Case file" -r -F
complete -c orbitmesh -n "__fish_seen_subcommand_from test" -l case -d "Only this case" -x
complete -c orbitmesh -n "__fish_seen_subcommand_from completions" -a "bash zsh fish"
complete -c orbitmesh -n "__fish_seen_subcommand_from replay" -l until -d "Event seq or UTC time" -x
complete -c orbitmesh -n "__fish_seen_subcommand_from replay" -l verify -d "Compare the projections with the events"
complete -c orbitmesh -n "__fish_seen_subcommand_from replay" -l chain-head -d "Print the head of the hash chain"
complete -c orbitmesh -n "__fish_seen_subcommand_from replay" -l what-if -d "Drive a new definition with the run's results" -r -F
complete -c orbitmesh -n "__fish_seen_subcommand_from replay" -l export -d "Write a trace: chrome-trace FILE" -xa "chrome-trace"
complete -c orbitmesh -n "__fish_seen_subcommand_from serve replay token" -l store -d "Store URL: sqlite://PATH or postgres://USER@HOST:PORT/DB" -x
complete -c orbitmesh -n "__fish_seen_subcommand_from agent" -l server -d "Hub address; repeat or comma list to fail over" -x
complete -c orbitmesh -n "__fish_seen_subcommand_from serve" -l retain-jobs -d "Finished jobs kept in memory" -x
complete -c orbitmesh -n "__fish_seen_subcommand_from serve" -l retain-runs -d "Finished runs kept in memory" -x
complete -c orbitmesh -n "__fish_seen_subcommand_from serve" -l shared-store -d "Several active hubs on the PostgreSQL store"
complete -c orbitmesh -n "__fish_seen_subcommand_from serve" -l hub-id -d "This hub's id (with --shared-store)" -x
complete -c orbitmesh -n "__fish_seen_subcommand_from serve" -l snapshot-every -d "Events between snapshots" -x
complete -c orbitmesh -n "__fish_seen_subcommand_from serve" -l event-write-timeout -d "Drop an event-stream client this slow" -x
complete -c orbitmesh -n "__fish_seen_subcommand_from serve" -l max-event-clients -d "Event-stream clients at once" -x
complete -c orbitmesh -n "__fish_seen_subcommand_from serve" -l otlp-endpoint -d "OTLP/HTTP JSON collector URL" -x
complete -c orbitmesh -n "__fish_seen_subcommand_from twin; and not __fish_seen_subcommand_from get set" -a "get set"
complete -c orbitmesh -n "__fish_seen_subcommand_from agent; and not __fish_seen_subcommand_from drain undrain" -a "drain undrain"
complete -c orbitmesh -n "__fish_seen_subcommand_from token; and not __fish_seen_subcommand_from create list revoke refresh" -a "create list revoke refresh"
complete -c orbitmesh -l role -d "Token role" -xa "agent operator admin"
complete -c orbitmesh -l auth -d "Who must show a token" -xa "none token"
complete -c orbitmesh -l jwt-key -d "PEM key for tokens" -r
complete -c orbitmesh -l token -d "Access token" -x
complete -c orbitmesh -l token-file -d "File holding the access token" -r
complete -c orbitmesh -l server -d "Hub address" -r
complete -c orbitmesh -s o -l output -d "Output format" -xa "table json ndjson"
complete -c orbitmesh -l durability -xa "full normal"
complete -c orbitmesh -l mode -xa "request_response fire_and_forget streaming long_running"
complete -c orbitmesh -l on-agent-lost -xa "reassign wait fail"
complete -c orbitmesh -l balance -xa "least-loaded round-robin random weighted"
complete -c orbitmesh -l cgroups -d "A cgroup v2 per job" -xa "auto off"
complete -c orbitmesh -l stop-grace -d "SIGTERM to SIGKILL when the agent stops" -x
complete -c orbitmesh -l data-dir -r -a "(__fish_complete_directories)"
complete -c orbitmesh -l node -r -d "JavaScript engine (node)"
complete -c orbitmesh -l http-allow -r -d "Where http steps may go"
complete -c orbitmesh -l notify-channel -r -d "NAME=URL or NAME=log"
complete -c orbitmesh -l ca -d "CA file to verify an https/wss hub" -r -F
complete -c orbitmesh -l tls-cert -d "PEM certificate" -r -F
complete -c orbitmesh -l tls-key -d "PEM private key" -r -F
complete -c orbitmesh -l client-ca -d "CA of agent certificates (mutual TLS)" -r -F
complete -c orbitmesh -l secrets-dir -d "Directory of workflow secrets" -r -a "(__fish_complete_directories)"
complete -c orbitmesh -l wait -d "Follow the job to its end"
complete -c orbitmesh -l secret -d "Hub secret the job gets as an environment variable" -x
complete -c orbitmesh -l pending-timeout -d "Fail a job no agent took within this long" -x
complete -c orbitmesh -s f -l follow -d "Follow output"
complete -c orbitmesh -l config -r -d "YAML settings file (serve, agent)"
complete -c orbitmesh -l print-config -d "Print the effective settings and exit"
complete -c orbitmesh -l log-format -xa "text json"
complete -c orbitmesh -l log-level -xa "debug info warn error"
complete -c orbitmesh -l sandbox -d "Run shell/exec jobs under bubblewrap"
complete -c orbitmesh -l sandbox-network -d "Sandboxed jobs may ask for the network"
complete -c orbitmesh -l wasm-timeout -x -d "Time limit of a wasm job without one"
complete -c orbitmesh -l limit -x -d "Resource limit KEY=N" -a "cpu_seconds= memory_mb= output_bytes= files= pids= network=true"
