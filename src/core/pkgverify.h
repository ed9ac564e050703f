/*
 * pkgverify: check an evidence package (directory or zip) anywhere, with
 * no workspace: the BagIt structure (bagit.txt, bag-info.txt, complete and
 * correct payload and tag manifests in sha256 and sha512, Payload-Oxum),
 * every event's SSHSIG signature and role against the roster excerpt in
 * the package, every photo and form an event refers to present with its
 * hash, and the timeline (case id, unique ids, audit.tsv rows).
 *
 * A redacted package has no signatures that could be checked: its
 * manifests and timeline are checked and the report says so.
 */
#ifndef FB_PKGVERIFY_H
#define FB_PKGVERIFY_H

#include <jansson.h>

/* Report (new reference):
 * {"ok": bool, "package": path, "case", "unit", "redacted": bool,
 *  "files", "events", "photos", "signatures": checked count,
 *  "signatures_checkable": bool, "root": {"officer", "fingerprint"} or null,
 *  "failures": [{"file", "problem"}]}
 * Returns non-zero only when the package cannot be read at all. */
int pkgverify_run(const char *path, json_t **report);

#endif
