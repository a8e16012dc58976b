#pragma once
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>

namespace orbitmesh::transport {

/// Outgoing messages of one WebSocket, already encoded, bounded by bytes. Any thread may push;
/// exactly one writer drains it: push() says when to start that writer, and next() says when
/// it may stop, atomically, so two writers never run at once. Thread-safe.
class send_queue {
public:
    enum class pushed { queued, start_writer, overflow, closed };
    enum class step { write, close, idle };
    /// What the writer should do next (see next()).
    struct batch {
        std::string frame;        // step::write: the frame to send
        std::size_t messages = 0;  // how many messages it holds
        int close_code = 0;        // step::close
        std::string close_reason;
    };

    send_queue(std::size_t max_bytes, bool json_text, std::size_t max_batch_bytes = 1u << 20);

    /// Queues one encoded message. `overflow` means the bound was passed: the queue is now
    /// closed and the caller must drop the connection.
    pushed push(std::string encoded);
    /// Asks the writer to close with `code` once everything queued so far is sent. Returns true
    /// when the caller must start the writer.
    bool request_close(int code, std::string reason);
    /// For the writer: `write` with the queued messages joined into one frame (up to
    /// max_batch_bytes), `close` when drained and a close was requested, `idle` when the writer
    /// must stop (nothing left, or the queue is closed).
    step next(batch& out);
    /// Drops everything and refuses further pushes.
    void close();
    std::size_t queued_bytes() const;

private:
    mutable std::mutex mu_;
    std::deque<std::string> items_;
    std::size_t bytes_ = 0;
    std::size_t max_bytes_;
    std::size_t max_batch_bytes_;
    bool json_text_;
    bool writer_running_ = false;
    bool close_requested_ = false;
    int close_code_ = 0;
    std::string close_reason_;
    bool closed_ = false;
};

}  // namespace orbitmesh::transport
