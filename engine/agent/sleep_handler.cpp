#include <charconv>
#include <cmath>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "engine/agent/builtin_handlers.hpp"
#include "transport/asio.hpp"

namespace orbitmesh::engine::agent {

namespace {

constexpr std::int64_t progress_every_ms = 1000;

[[noreturn]] void bad_sleep_payload(const std::string& why) {
    throw core::error(core::error_kind::invalid_input,
                      "sleep: " + why +
                          "; give seconds (5, \"5\", {\"seconds\": 5}) or a duration "
                          "(\"250ms\", {\"duration\": \"1m\"})");
}

/// "3s" for whole seconds, otherwise core::format_duration's form ("1.5s", "250ms").
std::string time_text(std::int64_t ms) {
    return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : core::format_duration(ms);
}

std::int64_t seconds_to_ms(double s) {
    if (!std::isfinite(s) || s < 0 || s > 1e9) bad_sleep_payload("the time must be a non-negative number");
    return static_cast<std::int64_t>(std::llround(s * 1000));
}

std::int64_t ms_from_text(const std::string& text) {
    double seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec == std::errc{} && end == text.data() + text.size()) return seconds_to_ms(seconds);
    if (auto ms = core::parse_duration(text)) return *ms;
    bad_sleep_payload("cannot read \"" + text + "\" as a time");
}

/// The sleep time in ms from any accepted payload form.
std::int64_t sleep_ms(const core::json& p) {
    if (p.is_number()) return seconds_to_ms(p.get<double>());
    if (p.is_string()) return ms_from_text(p.get<std::string>());
    if (p.is_object()) {
        if (auto it = p.find("seconds"); it != p.end()) {
            if (it->is_number()) return seconds_to_ms(it->get<double>());
            if (it->is_string()) return ms_from_text(it->get<std::string>());
        }
        if (auto it = p.find("duration"); it != p.end() && it->is_string())
            return ms_from_text(it->get<std::string>());
    }
    bad_sleep_payload("unsupported payload " + p.dump());
}

/// One sleeping job: a timer that wakes each second for progress, until the end or a stop.
struct sleeper : std::enable_shared_from_this<sleeper> {
    sleeper(const std::shared_ptr<job_context>& c, std::int64_t total)
        : ctx(c), timer(c->io()), total_ms(total), start_ms(now()) {}

    static std::int64_t now() {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }

    void tick() {
        auto elapsed = now() - start_ms;
        if (elapsed >= total_ms) return done();
        auto next = std::min(total_ms, (elapsed / progress_every_ms + 1) * progress_every_ms);
        timer.expires_at(std::chrono::steady_clock::time_point(std::chrono::milliseconds(start_ms + next)));
        timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec || self->stopped) return;
            self->report();
            self->tick();
        });
    }

    void report() {
        auto elapsed = std::min(now() - start_ms, total_ms);
        if (elapsed >= total_ms) return;
        double pct =
            total_ms > 0 ? 100.0 * static_cast<double>(elapsed) / static_cast<double>(total_ms) : 100.0;
        // Ticks land a few ms after each second; report the second they stand for.
        auto shown = (elapsed + 500) / 1000 * 1000;
        ctx->emit_progress(std::floor(pct * 10) / 10,
                           "slept " + time_text(shown) + " of " + time_text(total_ms));
    }

    void done() { ctx->finish(job_result{job_status::succeeded, 0, {{"slept_ms", total_ms}}, {}}); }

    void stop() {
        stopped = true;
        timer.cancel();
        ctx->finish(job_result{job_status::cancelled, std::nullopt, {{"slept_ms", now() - start_ms}}, {}});
    }

    std::shared_ptr<job_context> ctx;
    net::steady_timer timer;
    std::int64_t total_ms;
    std::int64_t start_ms;
    bool stopped = false;
};

class sleep_handler final : public handler {
public:
    std::string name() const override { return "sleep"; }

    void start(const std::shared_ptr<job_context>& ctx) override {
        auto s = std::make_shared<sleeper>(ctx, sleep_ms(ctx->payload()));
        // The sleeper holds the context and the context its stop handler: the cycle ends when the
        // job finishes (the context drops its stop handler then).
        ctx->set_stop_handler([s](std::int64_t) { s->stop(); });
        s->tick();
    }
};

}  // namespace

std::shared_ptr<handler> make_sleep_handler() { return std::make_shared<sleep_handler>(); }

}  // namespace orbitmesh::engine::agent
