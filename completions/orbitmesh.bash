# bash completion for orbitmesh                                   -*- shell-script -*-
_orbitmesh() {
    local cur prev words cword
    _init_completion 2>/dev/null || { cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}"; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
    local commands="serve agent run status replay job workflow event twin token version completions"
    local client="--server --token --token-file --ca -o --output -q --quiet -v --verbose --help"
    case "$prev" in
        -o|--output) COMPREPLY=($(compgen -W "table json ndjson" -- "$cur")); return ;;
        --durability) COMPREPLY=($(compgen -W "full normal" -- "$cur")); return ;;
        --mode) COMPREPLY=($(compgen -W "request_response fire_and_forget streaming long_running" -- "$cur")); return ;;
        --on-agent-lost) COMPREPLY=($(compgen -W "reassign wait fail" -- "$cur")); return ;;
        --balance) COMPREPLY=($(compgen -W "least-loaded round-robin random weighted" -- "$cur")); return ;;
        --log-format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
        --log-level) COMPREPLY=($(compgen -W "debug info warn error" -- "$cur")); return ;;
        --limit) COMPREPLY=($(compgen -W "cpu_seconds= memory_mb= output_bytes= files= pids= network=true" -- "$cur")); return ;;
        --config) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --auth) COMPREPLY=($(compgen -W "none token" -- "$cur")); return ;;
        --role) COMPREPLY=($(compgen -W "agent operator admin" -- "$cur")); return ;;
        --jwt-key|--refresh-token-file|--token-file|--ca|--tls-cert|--tls-key|--client-ca) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --data-dir|--handlers|--port-file|--workflows|--allow-root|--secrets-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    esac
    if [ "$cword" -eq 1 ]; then COMPREPLY=($(compgen -W "$commands --help" -- "$cur")); return; fi
    case "${words[1]}" in
        serve) COMPREPLY=($(compgen -W "--listen --data-dir --store --shared-store --hub-id --workflows --port-file --durability --max-frame --max-pending --heartbeat --ack-timeout --reassign-after --max-reassign --idempotency-window --cancel-grace --breaker-threshold --breaker-cooldown --balance --node --script-timeout --script-memory --http-allow --http-max-response --notify-channel --auth --insecure-no-auth --jwt-key --max-auth-failures --max-connections --handshake-timeout --max-body --event-write-timeout --max-event-clients --otlp-endpoint --tls-cert --tls-key --client-ca --secrets-dir --retain-jobs --retain-runs --snapshot-every --log-format --log-level --config --print-config --help" -- "$cur")) ;;
        agent) COMPREPLY=($(compgen -W "drain undrain --server --name --tag --capability --concurrency --data-dir --handlers --allow-root --no-shell --reconnect-min --reconnect-max --stop-grace --cgroups --json-protocol --token --token-file --ca --tls-cert --tls-key --sandbox --sandbox-network --node --wasm-timeout --log-format --log-level --config --print-config --help" -- "$cur")) ;;
        job)
            if [ "$cword" -eq 2 ]; then COMPREPLY=($(compgen -W "submit get cancel logs list retry" -- "$cur")); return; fi
            case "${words[2]}" in
                submit) COMPREPLY=($(compgen -W "--capability --tag --where --agent --priority --timeout --retries --idempotency-key --mode --on-agent-lost --pending-timeout --payload --secret --limit --wait $client" -- "$cur")) ;;
                logs) COMPREPLY=($(compgen -W "-f --follow $client" -- "$cur")) ;;
                list) COMPREPLY=($(compgen -W "--limit --state $client" -- "$cur")) ;;
                *) COMPREPLY=($(compgen -W "$client" -- "$cur")) ;;
            esac ;;
        run) COMPREPLY=($(compgen -W "--input --input-file --idempotency-key --timeout --detach --local --data-dir --handlers --tag --capability $client" -- "$cur")) ;;
        status) COMPREPLY=($(compgen -W "agents jobs runs --watch $client" -- "$cur")) ;;
        replay)
            if [ "$prev" = "--export" ]; then COMPREPLY=($(compgen -W "chrome-trace" -- "$cur")); return; fi
            if [ "$prev" = "--what-if" ]; then COMPREPLY=($(compgen -f -- "$cur")); return; fi
            COMPREPLY=($(compgen -W "--data-dir --store --until --verify --chain-head --what-if --export $client" -- "$cur")) ;;
        workflow)
            if [ "$cword" -eq 2 ]; then COMPREPLY=($(compgen -W "validate test register list cancel pause resume approve rerun triggers" -- "$cur")); return; fi
            case "${words[2]}" in
                test) if [ "$prev" = "--cases" ]; then COMPREPLY=($(compgen -f -- "$cur")); else COMPREPLY=($(compgen -W "--cases --case -o --output -q --quiet --help" -f -- "$cur")); fi ;;
                *) COMPREPLY=($(compgen -f -- "$cur")) ;;
            esac ;;
        twin) if [ "$cword" -eq 2 ]; then COMPREPLY=($(compgen -W "get set" -- "$cur")); else COMPREPLY=($(compgen -W "drain=true drain=false concurrency= labels. $client" -- "$cur")); fi ;;
        event) if [ "$cword" -eq 2 ]; then COMPREPLY=($(compgen -W "post" -- "$cur")); else COMPREPLY=($(compgen -W "--data --correlation-key $client" -- "$cur")); fi ;;
        token)
            if [ "$cword" -eq 2 ]; then COMPREPLY=($(compgen -W "create list revoke refresh" -- "$cur")); return; fi
            case "${words[2]}" in
                create) COMPREPLY=($(compgen -W "--role --name --ttl --refresh --refresh-ttl --data-dir --store --jwt-key $client" -- "$cur")) ;;
                revoke) COMPREPLY=($(compgen -W "--reason $client" -- "$cur")) ;;
                refresh) COMPREPLY=($(compgen -W "--refresh-token --refresh-token-file $client" -- "$cur")) ;;
                *) COMPREPLY=($(compgen -W "$client" -- "$cur")) ;;
            esac ;;
        completions) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")) ;;
        version) COMPREPLY=($(compgen -W "-o --output --help" -- "$cur")) ;;
    esac
}
complete -F _orbitmesh orbitmesh
