#pragma once

namespace tessera::server {

// Ends the read side of every TCP connection this process accepted on `port` (Linux: found through
// /proc/self/fd). Why: httplib's stop() closes only the listening socket, then joins its worker threads, and a
// browser's idle keep-alive connection holds its thread for the whole keep-alive timeout (30 s here) - `tessera
// serve` took 30 s to stop. A read shutdown wakes those threads at once (they read end-of-stream and close the
// connection), while a response being written still completes. Returns how many connections were ended.
int end_idle_connections(int port);

}  // namespace tessera::server
