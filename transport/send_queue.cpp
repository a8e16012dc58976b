#include "transport/send_queue.hpp"

#include <vector>

#include "transport/codec.hpp"

namespace orbitmesh::transport {

send_queue::send_queue(std::size_t max_bytes, bool json_text, std::size_t max_batch_bytes)
    : max_bytes_(max_bytes), max_batch_bytes_(max_batch_bytes), json_text_(json_text) {}

send_queue::pushed send_queue::push(std::string encoded) {
    std::lock_guard lock(mu_);
    if (closed_ || close_requested_) return pushed::closed;
    if (bytes_ + encoded.size() > max_bytes_) {
        items_.clear();
        bytes_ = 0;
        closed_ = true;
        return pushed::overflow;
    }
    bytes_ += encoded.size();
    items_.push_back(std::move(encoded));
    if (writer_running_) return pushed::queued;
    writer_running_ = true;
    return pushed::start_writer;
}

bool send_queue::request_close(int code, std::string reason) {
    std::lock_guard lock(mu_);
    if (closed_ || close_requested_) return false;
    close_requested_ = true;
    close_code_ = code;
    close_reason_ = std::move(reason);
    if (writer_running_) return false;
    writer_running_ = true;
    return true;
}

send_queue::step send_queue::next(batch& out) {
    std::vector<std::string> parts;
    {
        std::lock_guard lock(mu_);
        if (closed_ || items_.empty()) {
            bool close_now = !closed_ && close_requested_;
            writer_running_ = false;
            if (!close_now) return step::idle;
            closed_ = true;
            out.close_code = close_code_;
            out.close_reason = close_reason_;
            return step::close;
        }
        std::size_t taken = 0;
        // Always take at least one message, however big; then fill up to the batch size.
        while (!items_.empty() && (parts.empty() || taken + items_.front().size() <= max_batch_bytes_)) {
            taken += items_.front().size();
            parts.push_back(std::move(items_.front()));
            items_.pop_front();
        }
        bytes_ -= taken;
    }
    out.messages = parts.size();
    out.frame = join_encoded(parts, json_text_);
    return step::write;
}

void send_queue::close() {
    std::lock_guard lock(mu_);
    items_.clear();
    bytes_ = 0;
    closed_ = true;
}

std::size_t send_queue::queued_bytes() const {
    std::lock_guard lock(mu_);
    return bytes_;
}

}  // namespace orbitmesh::transport
