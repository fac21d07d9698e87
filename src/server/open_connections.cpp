#include "server/open_connections.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace tessera::server {
namespace {

int local_port(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return -1;
  if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  return -1;
}

bool is_listening(int fd) {
  int listening = 0;
  socklen_t length = sizeof(listening);
  return ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0 && listening != 0;
}

}  // namespace

int end_idle_connections(int port) {
  if (port <= 0) return 0;
  int ended = 0;
  std::error_code error;
  // A connection the server accepted has the server's port as its local port (this process's own client
  // sockets to the server - tests - have an ephemeral one). Each descriptor is checked just before its
  // shutdown, and shut down, never closed: httplib's thread closes it as usual.
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (const std::exception&) {
      continue;
    }
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISSOCK(info.st_mode)) continue;
    if (local_port(fd) != port || is_listening(fd)) continue;
    if (::shutdown(fd, SHUT_RD) == 0) ++ended;
  }
  return ended;
}

}  // namespace tessera::server
