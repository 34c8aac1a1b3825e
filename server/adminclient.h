// AdminClient: the `calnet-server authkey|nodes|users ...` subcommands, each one request to a
// running server's admin API (docs/protocol.md "Admin API").
//
//   calnet-server authkey create [--reusable] [--expires DURATION] [--tag T]... [--user U]
//   calnet-server authkey list | authkey revoke ID
//   calnet-server nodes list | nodes delete ID | nodes expire ID
//   calnet-server users list
// Common: --server URL (default http://127.0.0.1:8080), --admin-token-file F or
// CALNET_ADMIN_TOKEN, --json (print the server's JSON reply as it is).
#pragma once

#include <QStringList>

namespace calnet::server {

// args: everything after the program name, e.g. {"authkey", "create", "--reusable"}.
// Prints to stdout/stderr and returns the process exit code.
int runAdminCommand(const QStringList& args);

} // namespace calnet::server
