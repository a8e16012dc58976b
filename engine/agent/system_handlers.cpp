#include "engine/agent/builtin_handlers.hpp"
#include "engine/agent/system_facts.hpp"

namespace orbitmesh::engine::agent {

namespace {

/// system.info / system.health: a snapshot of machine facts. Reading /proc is in memory, but
/// statvfs can stall on a network file system, so the work runs on the blocking pool.
class system_handler final : public handler {
public:
    using facts_fn = core::json (*)(const std::filesystem::path&);
    system_handler(std::string name, std::filesystem::path disk_path, facts_fn facts)
        : name_(std::move(name)), disk_path_(std::move(disk_path)), facts_(facts) {}

    std::string name() const override { return name_; }

    void start(const std::shared_ptr<job_context>& ctx) override {
        ctx->run_blocking([disk = disk_path_, facts = facts_] {
            return job_result{job_status::succeeded, 0, facts(disk), {}};
        });
    }

private:
    std::string name_;
    std::filesystem::path disk_path_;
    facts_fn facts_;
};

}  // namespace

std::shared_ptr<handler> make_system_info_handler(std::filesystem::path disk_path) {
    return std::make_shared<system_handler>("system.info", std::move(disk_path), &system_info);
}

std::shared_ptr<handler> make_system_health_handler(std::filesystem::path disk_path) {
    return std::make_shared<system_handler>("system.health", std::move(disk_path), &system_health);
}

}  // namespace orbitmesh::engine::agent
