/*
 * sign: the officer's Ed25519 key (libsodium) and SSHSIG signatures.
 *
 * The secret key is stored only encrypted: Argon2id (crypto_pwhash) derives
 * a key from the PIN, secretbox seals the 64-byte Ed25519 secret key.  In
 * memory it lives in sodium_malloc'd, mlocked pages, wiped on free.
 *
 * Signatures use OpenSSH's SSHSIG format (PROTOCOL.sshsig) so that stock
 * `ssh-keygen -Y verify` and `git verify-commit` (gpg.format=ssh) accept
 * them: namespace "fieldbook" for event files, "git" for commits.
 */
#ifndef FB_SIGN_H
#define FB_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct sign_key sign_key;

#define SIGN_NS_EVENT "fieldbook"
#define SIGN_NS_GIT "git"

/* Create a new key encrypted with pin at path (mode 0600, must not exist).
 * pubkey receives "ssh-ed25519 AAAA..." (at least 128 bytes). */
int sign_key_create(const char *path, const char *pin, char *pubkey, size_t size);
/* Read the public key of a key file without the PIN. */
int sign_key_public_of(const char *path, char *pubkey, size_t size);
/* Decrypt with the PIN.  Wrong PINs are counted in state_path and, after
 * three, each further attempt must wait (30 s doubling, up to an hour). */
int sign_key_unlock(sign_key **out, const char *path, const char *state_path,
		    const char *pin);
void sign_key_free(sign_key *k);
const char *sign_key_public(const sign_key *k);

/* Armored SSHSIG signature of data (caller frees). */
int sign_data(const sign_key *k, const char *ns, const void *data, size_t len,
	      char **armored);
/* Check an armored SSHSIG over data in namespace ns.  On success the
 * signer's public key ("ssh-ed25519 AAAA...") is written to signer.
 * ERR_INVALID with the reason otherwise. */
int sign_verify(const char *ns, const void *data, size_t len, const char *armored,
		size_t armored_len, char *signer, size_t signer_size);
/* Short fingerprint of a public key: "SHA256:..." as ssh-keygen -l prints. */
int sign_fingerprint(const char *pubkey, char *out, size_t size);

#endif
