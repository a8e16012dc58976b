// `wasm`: WASI modules run by node's `node:wasi` (the original OrbitMesh's WASM sandbox).
#include <cstdlib>

#include "core/error.hpp"
#include "core/job_limits.hpp"
#include "engine/agent/builtin_handlers.hpp"
#include "engine/agent/job_supervisor.hpp"
#include "engine/agent/process_job.hpp"

namespace orbitmesh::engine::agent {

namespace {

// Runs in node: reads the module, preopens only the given dirs, starts it and exits with its
// status. Errors are one line on stderr ("wasm: ..."), which becomes the job's error.
// Runs in node: reads the module, caps its memory (memory_mb: the module's own memory section
// gets a maximum, so memory.grow past it fails inside the module and malloc returns NULL; V8's
// --wasm-max-mem-pages is not honoured for a module's own memory), preopens only the given dirs,
// starts it and exits with its status. Errors are one line on stderr ("wasm: ..."), which becomes
// the job's error.
constexpr const char* runner_js = R"js(
import { WASI } from 'node:wasi';
import { readFile } from 'node:fs/promises';
const cfg = JSON.parse(process.argv[process.argv.length - 1]);
function capMemory(bytes, maxPages) {
  let p = 8;
  const readU = () => { let r = 0, s = 0, b; do { b = bytes[p++]; r += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return r; };
  const leb = (v) => { const o = []; do { let b = v % 128; v = Math.floor(v / 128); if (v) b |= 0x80; o.push(b); } while (v); return o; };
  while (p < bytes.length) {
    const head = p, id = bytes[p++], size = readU(), body = p, end = body + size;
    if (id === 5) {
      const out = [], count = readU();
      out.push(...leb(count));
      for (let i = 0; i < count; i++) {
        const flags = readU(), min = readU(), max = flags & 1 ? readU() : Infinity;
        if (min > maxPages) throw new Error(`the module needs ${Math.ceil(min / 16)} MiB of memory at start, over its limit (memory_mb: ${maxPages / 16})`);
        out.push(...leb(flags | 1), ...leb(min), ...leb(Math.min(max, maxPages)));
      }
      const section = [5, ...leb(out.length), ...out];
      return Buffer.concat([bytes.subarray(0, head), Buffer.from(section), bytes.subarray(end)]);
    }
    p = end;
  }
  return bytes;
}
try {
  let bytes = await readFile(cfg.module);
  if (cfg.maxPages) bytes = capMemory(bytes, cfg.maxPages);
  const wasi = new WASI({ version: 'preview1', args: cfg.args, env: cfg.env, preopens: cfg.preopens, returnOnExit: true });
  const module = await WebAssembly.compile(bytes);
  const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
  process.exitCode = wasi.start(instance);
} catch (e) {
  process.stderr.write('wasm: ' + String(e && e.message || e).split('\n')[0] + '\n');
  process.exitCode = 1;
}
)js";

constexpr std::int64_t pages_per_mb = 16;  // 64 KiB wasm pages

std::string find_node(const std::string& configured) {
    std::string path;
    if (!configured.empty()) return resolve_program(configured, path) == 0 ? path : std::string();
    if (const char* env = std::getenv("ORBITMESH_NODE"); env && *env)
        return resolve_program(env, path) == 0 ? path : std::string();
    for (const char* name : {"node", "nodejs"})
        if (resolve_program(name, path) == 0) return path;
    return {};
}

[[noreturn]] void bad_wasm_payload(const std::string& why) {
    throw core::error(core::error_kind::invalid_input,
                      "wasm: " + why + " (payload: {module: PATH, args: [...], env: {...}, dirs: {GUEST: HOST}})");
}

/// The runner's configuration: the module and preopened dirs resolved inside the agent's roots.
core::json runner_config(const core::json& p, const path_guard& guard) {
    core::json cfg = {{"args", core::json::array()}, {"env", core::json::object()}, {"preopens", core::json::object()}};
    const core::json* module = p.is_string() ? &p : p.is_object() && p.contains("module") ? &p["module"] : nullptr;
    if (!module || !module->is_string()) bad_wasm_payload("give the module's path");
    auto path = guard.resolve(module->get<std::string>(), "wasm");
    cfg["module"] = path.string();
    cfg["args"].push_back(path.filename().string());
    if (!p.is_object()) return cfg;
    if (auto it = p.find("args"); it != p.end() && !it->is_null()) {
        if (!it->is_array()) bad_wasm_payload("\"args\" must be a list");
        for (const auto& a : *it) cfg["args"].push_back(a.is_string() ? a.get<std::string>() : a.dump());
    }
    if (auto it = p.find("env"); it != p.end() && !it->is_null()) {
        if (!it->is_object()) bad_wasm_payload("\"env\" must be a map");
        for (const auto& [k, v] : it->items()) cfg["env"][k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
    if (auto it = p.find("dirs"); it != p.end() && !it->is_null()) {
        if (!it->is_object()) bad_wasm_payload("\"dirs\" must map guest paths to host directories");
        for (const auto& [guest, host] : it->items()) {
            if (!host.is_string()) bad_wasm_payload("dirs." + guest + " must be a host directory");
            cfg["preopens"][guest] = guard.resolve(host.get<std::string>(), "wasm").string();
        }
    }
    return cfg;
}

class wasm_handler final : public handler {
public:
    wasm_handler(wasm_config cfg, std::string node, containment_ptr containment)
        : cfg_(std::move(cfg)), node_(std::move(node)), containment_(std::move(containment)) {}
    std::string name() const override { return "wasm"; }
    std::int64_t default_timeout_ms() const override { return cfg_.default_timeout_ms; }

    void start(const std::shared_ptr<job_context>& ctx) override {
        auto cfg = runner_config(ctx->payload(), *cfg_.guard);
        auto limits = core::job_limits_from_json(ctx->request().limits, "wasm: limits");
        process_job job;
        job.label = "wasm";
        if (limits.memory_mb > 0) cfg["maxPages"] = limits.memory_mb * pages_per_mb;
        job.argv = {node_, "--no-warnings", "--max-old-space-size=64"};
        job.argv.insert(job.argv.end(), {"--input-type=module", "-e", runner_js, cfg.dump()});
        job.address_space_limit = false;  // V8 reserves many GiB of address space for any wasm memory
        start_process_job(ctx, std::move(job), containment_);
    }

private:
    wasm_config cfg_;
    std::string node_;
    containment_ptr containment_;
};

}  // namespace

std::shared_ptr<handler> make_wasm_handler(wasm_config cfg, containment_ptr containment) {
    auto node = find_node(cfg.node);
    if (node.empty()) return nullptr;
    return std::make_shared<wasm_handler>(std::move(cfg), std::move(node), std::move(containment));
}

}  // namespace orbitmesh::engine::agent
