// `orbitmesh token create|list|revoke|refresh` (SPEC §1, §8): access tokens. `create --data-dir`
// mints offline from the hub's data dir (the first admin token); everything else asks the hub.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/flag_parsing.hpp"
#include "cli/output.hpp"
#include "cli/store_flag.hpp"
#include "core/error.hpp"
#include "core/exit_code.hpp"
#include "engine/auth/offline_tokens.hpp"

namespace orbitmesh::cli {

namespace {

struct create_flags {
    std::string role, name, ttl = "30d", refresh_ttl = "90d", data_dir, store, jwt_key;
    bool refresh = false;
};

struct revoke_flags {
    std::string id, reason;
};

struct refresh_flags {
    std::string token, file;
};

/// The tokens on stdout, one a line (access, then refresh): `$(orbitmesh token create …)` works.
void print_minted(const core::json& res, const global_options& g) {
    if (g.output != "table") return print_json(res, g.output == "ndjson");
    std::cout << res.value("token", std::string{}) << "\n";
    if (res.contains("refresh_token")) std::cout << res.value("refresh_token", std::string{}) << "\n";
    std::cout.flush();
}

engine::auth::mint_request to_request(const create_flags& f) {
    engine::auth::mint_request r;
    auto granted = core::parse_role(f.role);
    if (!granted) throw core::error(core::error_kind::usage, "--role must be agent, operator or admin, got \"" + f.role + "\"");
    r.granted = *granted;
    r.name = f.name.empty() ? std::string(core::to_string(*granted)) : f.name;
    r.ttl_ms = positive_duration(f.ttl, "--ttl");
    r.refresh = f.refresh;
    r.refresh_ttl_ms = positive_duration(f.refresh_ttl, "--refresh-ttl");
    r.created_by = "token create --data-dir";
    engine::auth::check_mint_request(r);
    return r;
}

int run_create(const create_flags& f, const global_options& g) {
    check_format(g.output);
    auto r = to_request(f);
    if (!f.data_dir.empty()) {
        engine::auth::offline_store where{f.data_dir, {}, f.jwt_key, {}};
        const auto store = parse_store_flag(f.store);
        where.store_path = store.sqlite_path;
        where.store_url = store.url;
        print_minted(engine::auth::create_token_offline(where, r), g);
        return core::exit_ok;
    }
    if (!f.store.empty() || !f.jwt_key.empty())
        throw core::error(core::error_kind::usage, "--store and --jwt-key go with --data-dir (offline minting)");
    core::json body{{"role", f.role}, {"name", r.name}, {"ttl", f.ttl}, {"refresh", f.refresh}, {"refresh_ttl", f.refresh_ttl}};
    api_client api(g);
    print_minted(api.post("/api/v1/tokens", body), g);
    return core::exit_ok;
}

int run_list(const global_options& g) {
    check_format(g.output);
    api_client api(g);
    auto res = api.get("/api/v1/tokens");
    if (g.output != "table") {
        print_json(res, g.output == "ndjson");
        return core::exit_ok;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : res.value("tokens", core::json::array()))
        rows.push_back({cell(t, "id"), cell(t, "name"), cell(t, "role"), cell(t, "kind"), cell(t, "state"), cell(t, "expires_at")});
    print_table({"ID", "NAME", "ROLE", "KIND", "STATE", "EXPIRES"}, rows);
    return core::exit_ok;
}

int run_revoke(const revoke_flags& f, const global_options& g) {
    check_format(g.output);
    api_client api(g);
    auto res = api.post("/api/v1/tokens/" + url_encode(f.id) + "/revoke", core::json{{"reason", f.reason}});
    if (g.output == "table") std::cout << cell(res, "id") << " " << cell(res, "state") << std::endl;
    else print_json(res, g.output == "ndjson");
    return core::exit_ok;
}

int run_refresh(const refresh_flags& f, const global_options& g) {
    check_format(g.output);
    if (f.token.empty() && f.file.empty())
        throw core::error(core::error_kind::usage, "token refresh needs --refresh-token or --refresh-token-file");
    auto refresh_token = resolve_token(f.token, f.file);
    global_options anonymous = g;  // the refresh token is the credential; no access token is sent
    anonymous.token = "";
    anonymous.token_file = "";
    api_client api(anonymous);
    print_minted(api.post("/api/v1/tokens/refresh", core::json{{"refresh_token", refresh_token}}), g);
    return core::exit_ok;
}

void add_create(CLI::App& token, command_context& ctx) {
    auto f = std::make_shared<create_flags>();
    auto* sub = token.add_subcommand("create", "Mint an access token and print it (with --refresh, a refresh token on a second line)");
    sub->add_option("--role", f->role, "agent, operator or admin")->required()->type_name("ROLE");
    sub->add_option("--name", f->name, "What the token is for, shown by `token list` (default: the role)");
    sub->add_option("--ttl", f->ttl, "How long the access token is valid")->capture_default_str();
    sub->add_flag("--refresh", f->refresh, "Also issue a refresh token (rotated by `token refresh`)");
    sub->add_option("--refresh-ttl", f->refresh_ttl, "How long the refresh token is valid")->capture_default_str();
    sub->add_option("--data-dir", f->data_dir, "Mint offline from this hub data dir (works while the hub runs)")->type_name("DIR");
    sub->add_option("--store", f->store, "With --data-dir: the hub's --store, sqlite://PATH or postgres://USER@HOST:PORT/DB");
    sub->add_option("--jwt-key", f->jwt_key, "With --data-dir: the hub's --jwt-key (its private half)")->type_name("FILE");
    add_client_flags(*sub, ctx.global);
    sub->callback([&ctx, f] { ctx.run = [&ctx, f] { return run_create(*f, ctx.global); }; });
}

}  // namespace

void add_token_commands(CLI::App& app, command_context& ctx) {
    auto* token = app.add_subcommand("token", "Issue, list and revoke access tokens (an admin token is needed)");
    token->require_subcommand(1);
    add_create(*token, ctx);
    auto* list = token->add_subcommand("list", "List the hub's tokens (never their text)");
    add_client_flags(*list, ctx.global);
    list->callback([&ctx] { ctx.run = [&ctx] { return run_list(ctx.global); }; });

    auto rf = std::make_shared<revoke_flags>();
    auto* revoke = token->add_subcommand("revoke", "Revoke a token at once (with its refresh family); its agents are disconnected");
    revoke->add_option("id", rf->id, "The token's id (from `token list`)")->required()->type_name("ID");
    revoke->add_option("--reason", rf->reason, "Why, for `token list`");
    add_client_flags(*revoke, ctx.global);
    revoke->callback([&ctx, rf] { ctx.run = [&ctx, rf] { return run_revoke(*rf, ctx.global); }; });

    auto ff = std::make_shared<refresh_flags>();
    auto* refresh = token->add_subcommand("refresh", "Trade a refresh token for a new access + refresh pair (the old one is spent)");
    refresh->add_option("--refresh-token", ff->token, "The refresh token")->type_name("TOKEN");
    refresh->add_option("--refresh-token-file", ff->file, "Read the refresh token from this file")->type_name("FILE");
    add_client_flags(*refresh, ctx.global);
    refresh->callback([&ctx, ff] { ctx.run = [&ctx, ff] { return run_refresh(*ff, ctx.global); }; });
}

}  // namespace orbitmesh::cli
