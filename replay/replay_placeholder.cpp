// The replay library is filled by the audit CLI issue; this keeps the static library non-empty.
namespace tl::replay {
int library_version() { return 1; }
}  // namespace tl::replay
