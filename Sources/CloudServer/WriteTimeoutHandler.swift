import NIOCore

/// Closes a connection whose peer stops reading a response: when the channel stays unwritable
/// (NIO's outbound buffer above its high-water mark because the client's socket is full) for
/// `timeout`, the response is abandoned. Without it a client that reads a large response a byte
/// at a time would hold the response's memory and its connection for as long as it likes.
final class WriteTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    // Passes every inbound part through untouched; only writability events matter here.
    typealias InboundIn = NIOAny

    private let timeout: TimeAmount
    private var pendingClose: Scheduled<Void>?

    init(timeout: Duration) {
        self.timeout = .nanoseconds(Int64(timeout.seconds * 1e9))
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            pendingClose?.cancel()
            pendingClose = nil
        } else if pendingClose == nil {
            let channel = context.channel
            pendingClose = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        }
        context.fireChannelWritabilityChanged()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        pendingClose?.cancel()
        pendingClose = nil
    }
}
