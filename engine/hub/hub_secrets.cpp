// A job's secrets on the hub: the spec names them; the values are resolved (secret_store) when
// the job is sent, travel in its `assign` only, and mask whatever the agent reports back before
// the hub records, stores or shows it. Nothing here is ever persisted or logged.
#include "core/job_events.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_state.hpp"

namespace orbitmesh::engine {

void hub::check_secrets(const core::job_spec& spec) const {
    if (!spec.secrets.empty()) secrets_.resolve(spec.secrets);
}

bool hub::add_secrets(core::job_record& job, core::json& assign) {
    if (job.spec.secrets.empty()) return true;
    std::map<std::string, std::string> values;
    try {
        values = secrets_.resolve(job.spec.secrets);
    } catch (const core::error& e) {
        fail_unresolved(job, e.what());
        return false;
    }
    std::vector<std::string> list;
    list.reserve(values.size());
    for (const auto& [name, value] : values) list.push_back(value);
    job_masks_[job.id] = core::secret_mask(list);
    assign["secrets"] = std::move(values);
    return true;
}

const core::secret_mask* hub::mask_for(const core::job_record& job) {
    if (job.spec.secrets.empty()) return nullptr;
    auto it = job_masks_.find(job.id);
    if (it == job_masks_.end()) {
        // Assigned by an earlier hub process (recovered in flight): resolve the values again, as
        // far as they still exist, so what the agent reports is masked all the same.
        std::vector<std::string> list;
        for (const auto& name : job.spec.secrets) {
            try {
                if (auto v = secrets_.value(name)) list.push_back(std::move(*v));
            } catch (const core::error&) {  // unreadable now: nothing of it to mask by
            }
        }
        it = job_masks_.emplace(job.id, core::secret_mask(list)).first;
    }
    return &it->second;
}

void hub::fail_unresolved(core::job_record& job, const std::string& why) {
    hub_log("job " + job.id + " attempt " + std::to_string(job.attempt) + " not sent: " + why);
    store::write_batch batch;
    finish_job(job, core::job_state::failed, {{"error", why}}, batch);
    persist(std::move(batch), [this, id = job.id] { job_ended(id); });
}

}  // namespace orbitmesh::engine
