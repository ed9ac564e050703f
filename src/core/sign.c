/*
 * sign: key storage and SSHSIG.  See sign.h.
 *
 * SSHSIG blob (all strings are uint32 big-endian length + bytes):
 *   "SSHSIG" u32(1) string(publickey) string(namespace) string(reserved="")
 *   string(hash="sha512") string(signature)
 * signed message:
 *   "SSHSIG" string(namespace) string(reserved) string(hash) string(H(data))
 * publickey = string("ssh-ed25519") string(pk[32])
 * signature = string("ssh-ed25519") string(sig[64])
 */
#include "sign.h"
#include "error.h"
#include "i18n.h"
#include "util.h"

#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEY_TYPE "ssh-ed25519"
#define ARMOR_BEGIN "-----BEGIN SSH SIGNATURE-----"
#define ARMOR_END "-----END SSH SIGNATURE-----"

struct sign_key {
	unsigned char *sk; /* sodium_malloc'd crypto_sign_SECRETKEYBYTES */
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	char pub[128];
};

/* --- wire buffers ------------------------------------------------------------- */

typedef struct {
	unsigned char *p;
	size_t len, cap;
	bool oom;
} wbuf;

static void put(wbuf *b, const void *data, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = (b->cap + n) * 2;
		unsigned char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put_u32(wbuf *b, uint32_t v)
{
	unsigned char x[4] = {v >> 24, v >> 16, v >> 8, v};
	put(b, x, 4);
}

static void put_str(wbuf *b, const void *data, size_t n)
{
	put_u32(b, (uint32_t)n);
	put(b, data, n);
}

typedef struct {
	const unsigned char *p;
	size_t left;
	bool bad;
} rbuf;

static uint32_t get_u32(rbuf *r)
{
	if (r->bad || r->left < 4) {
		r->bad = true;
		return 0;
	}
	uint32_t v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->left -= 4;
	return v;
}

static const unsigned char *get_str(rbuf *r, size_t *n)
{
	*n = get_u32(r);
	if (r->bad || *n > r->left) {
		r->bad = true;
		return NULL;
	}
	const unsigned char *s = r->p;
	r->p += *n;
	r->left -= *n;
	return s;
}

static bool str_is(const unsigned char *s, size_t n, const char *want)
{
	return s && n == strlen(want) && memcmp(s, want, n) == 0;
}

/* --- public keys ----------------------------------------------------------------- */

static void pubkey_blob(wbuf *b, const unsigned char pk[32])
{
	put_str(b, KEY_TYPE, strlen(KEY_TYPE));
	put_str(b, pk, 32);
}

static int pubkey_format(const unsigned char pk[32], char *out, size_t size)
{
	wbuf b = {0};
	pubkey_blob(&b, pk);
	char b64[128];
	int rc = 0;
	if (b.oom)
		rc = error_set(ERR_NOMEM, "out of memory");
	else {
		sodium_bin2base64(b64, sizeof b64, b.p, b.len, sodium_base64_VARIANT_ORIGINAL);
		snprintf(out, size, "%s %s", KEY_TYPE, b64);
	}
	free(b.p);
	return rc;
}

/* "ssh-ed25519 AAAA... [comment]" -> 32 raw bytes. */
static int pubkey_parse(const char *text, unsigned char pk[32])
{
	unsigned char blob[128];
	size_t n;
	const char *b64 = strchr(text, ' ');
	if (strncmp(text, KEY_TYPE " ", strlen(KEY_TYPE) + 1) != 0 || !b64)
		return error_set(ERR_INVALID, _("not an ssh-ed25519 public key: %.40s"), text);
	b64++;
	size_t b64len = strcspn(b64, " \n");
	if (sodium_base642bin(blob, sizeof blob, b64, b64len, NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return error_set(ERR_INVALID, _("public key is not valid base64"));
	rbuf r = {blob, n, false};
	size_t tn, kn;
	const unsigned char *t = get_str(&r, &tn), *k = get_str(&r, &kn);
	if (r.bad || !str_is(t, tn, KEY_TYPE) || kn != 32)
		return error_set(ERR_INVALID, _("malformed ssh-ed25519 public key"));
	memcpy(pk, k, 32);
	return 0;
}

int sign_fingerprint(const char *pubkey, char *out, size_t size)
{
	unsigned char pk[32], h[crypto_hash_sha256_BYTES];
	int rc = pubkey_parse(pubkey, pk);
	if (rc)
		return rc;
	wbuf b = {0};
	pubkey_blob(&b, pk);
	crypto_hash_sha256(h, b.p, b.len);
	free(b.p);
	char b64[64];
	sodium_bin2base64(b64, sizeof b64, h, sizeof h, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	snprintf(out, size, "SHA256:%s", b64);
	return 0;
}

/* --- key file ---------------------------------------------------------------------- */

static char *b64(const unsigned char *bin, size_t n)
{
	size_t size = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(size);
	if (s)
		sodium_bin2base64(s, size, bin, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

static int unb64(const char *s, unsigned char *bin, size_t want)
{
	size_t n;
	if (!s || sodium_base642bin(bin, want, s, strlen(s), NULL, &n, NULL,
				    sodium_base64_VARIANT_ORIGINAL) != 0 || n != want)
		return -1;
	return 0;
}

static int derive(unsigned char key[crypto_secretbox_KEYBYTES], const char *pin,
		  const unsigned char *salt, unsigned long long ops, size_t mem)
{
	if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, pin, strlen(pin), salt, ops, mem,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return error_set(ERR_NOMEM, _("not enough memory to derive the key from the PIN"));
	return 0;
}

static int check_pin(const char *pin)
{
	if (!pin || strlen(pin) < 6)
		return error_set(ERR_INVALID, _("the PIN must have at least 6 characters"));
	return 0;
}

int sign_key_create(const char *path, const char *pin, char *pubkey, size_t size)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], salt[crypto_pwhash_SALTBYTES];
	unsigned char nonce[crypto_secretbox_NONCEBYTES], key[crypto_secretbox_KEYBYTES];
	unsigned char box[crypto_secretbox_MACBYTES + crypto_sign_SECRETKEYBYTES];
	unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	int rc;
	if (sodium_init() < 0)
		return error_set(ERR_GENERIC, "libsodium init failed");
	if ((rc = check_pin(pin)))
		return rc;
	if (util_is_file(path))
		return error_set(ERR_EXISTS, _("%s already exists"), path);
	unsigned char *sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (!sk)
		return error_set(ERR_NOMEM, "out of memory");
	crypto_sign_keypair(pk, sk);
	randombytes_buf(salt, sizeof salt);
	randombytes_buf(nonce, sizeof nonce);
	if ((rc = derive(key, pin, salt, ops, mem)) == 0)
		crypto_secretbox_easy(box, sk, crypto_sign_SECRETKEYBYTES, nonce, key);
	sodium_memzero(key, sizeof key);
	sodium_free(sk);
	if (rc)
		return rc;
	char pub[128];
	pubkey_format(pk, pub, sizeof pub);
	char *s_salt = b64(salt, sizeof salt), *s_nonce = b64(nonce, sizeof nonce), *s_box = b64(box, sizeof box);
	json_t *j = json_pack("{s:i, s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "version", 1, "kdf",
			      "argon2id13", "public", pub, "opslimit", (json_int_t)ops, "memlimit",
			      (json_int_t)mem, "salt", s_salt, "nonce", s_nonce, "box", s_box);
	char *text = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2));
	rc = text ? util_write_file(path, text, strlen(text), 0600) : error_set(ERR_NOMEM, "out of memory");
	free(text);
	json_decref(j);
	free(s_salt);
	free(s_nonce);
	free(s_box);
	if (rc == 0 && pubkey)
		snprintf(pubkey, size, "%s", pub);
	return rc;
}

static int load_keyfile(const char *path, json_t **out)
{
	json_error_t jerr;
	if (!util_is_file(path))
		return error_set(ERR_NOTFOUND, _("no officer key at %s (run 'fieldbook init')"), path);
	json_t *j = json_load_file(path, 0, &jerr);
	if (!j || !json_is_string(json_object_get(j, "public")) ||
	    json_integer_value(json_object_get(j, "version")) != 1) {
		json_decref(j);
		return error_set(ERR_INVALID, _("%s: the key file is damaged"), path);
	}
	*out = j;
	return 0;
}

int sign_key_public_of(const char *path, char *pubkey, size_t size)
{
	json_t *j;
	int rc = load_keyfile(path, &j);
	if (rc == 0)
		snprintf(pubkey, size, "%s", json_string_value(json_object_get(j, "public")));
	json_decref(j);
	return rc;
}

/* --- PIN attempts -------------------------------------------------------------------- */

static long wait_needed(const char *state_path, long *failures)
{
	json_t *st = state_path ? json_load_file(state_path, 0, NULL) : NULL;
	*failures = (long)json_integer_value(json_object_get(st, "failures"));
	long last = (long)json_integer_value(json_object_get(st, "last"));
	json_decref(st);
	if (*failures < 3)
		return 0;
	long delay = 30L << (*failures - 3 > 7 ? 7 : *failures - 3);
	if (delay > 3600)
		delay = 3600;
	long left = last + delay - (long)util_now();
	return left > 0 ? left : 0;
}

static void record_attempt(const char *state_path, long failures)
{
	if (!state_path)
		return;
	json_t *st = json_pack("{s:I, s:I}", "failures", (json_int_t)failures, "last",
			       (json_int_t)util_now());
	char *text = json_dumps(st, JSON_COMPACT);
	if (text)
		util_write_file(state_path, text, strlen(text), 0600);
	free(text);
	json_decref(st);
}

static int open_box(json_t *j, const char *path, const char *pin, unsigned char *sk)
{
	unsigned char salt[crypto_pwhash_SALTBYTES], nonce[crypto_secretbox_NONCEBYTES];
	unsigned char box[crypto_secretbox_MACBYTES + crypto_sign_SECRETKEYBYTES];
	unsigned char key[crypto_secretbox_KEYBYTES];
	json_int_t ops = json_integer_value(json_object_get(j, "opslimit"));
	json_int_t mem = json_integer_value(json_object_get(j, "memlimit"));
	if (unb64(json_string_value(json_object_get(j, "salt")), salt, sizeof salt) ||
	    unb64(json_string_value(json_object_get(j, "nonce")), nonce, sizeof nonce) ||
	    unb64(json_string_value(json_object_get(j, "box")), box, sizeof box) ||
	    ops < (json_int_t)crypto_pwhash_OPSLIMIT_MIN || mem < (json_int_t)crypto_pwhash_MEMLIMIT_MIN ||
	    mem > (json_int_t)1 << 32)
		return error_set(ERR_INVALID, _("%s: the key file is damaged"), path);
	int rc = derive(key, pin, salt, (unsigned long long)ops, (size_t)mem);
	if (rc == 0 && crypto_secretbox_open_easy(sk, box, sizeof box, nonce, key) != 0)
		rc = 1; /* wrong PIN (or a damaged box: indistinguishable) */
	sodium_memzero(key, sizeof key);
	return rc;
}

int sign_key_unlock(sign_key **out, const char *path, const char *state_path, const char *pin)
{
	json_t *j;
	long failures;
	int rc;
	if (sodium_init() < 0)
		return error_set(ERR_GENERIC, "libsodium init failed");
	if ((rc = load_keyfile(path, &j)))
		return rc;
	long wait = wait_needed(state_path, &failures);
	if (wait > 0) {
		json_decref(j);
		return error_set(ERR_STATE, _("%ld wrong PINs: try again in %ld seconds"), failures, wait);
	}
	sign_key *k = calloc(1, sizeof *k);
	if (!k || !(k->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES))) {
		free(k);
		json_decref(j);
		return error_set(ERR_NOMEM, "out of memory");
	}
	snprintf(k->pub, sizeof k->pub, "%s", json_string_value(json_object_get(j, "public")));
	rc = pin ? open_box(j, path, pin, k->sk) : 1;
	json_decref(j);
	if (rc == 1) {
		record_attempt(state_path, failures + 1);
		sign_key_free(k);
		return error_set(ERR_INVALID, _("wrong PIN (%ld failed attempts)"), failures + 1);
	}
	if (rc == 0) {
		crypto_sign_ed25519_sk_to_pk(k->pk, k->sk);
		char derived[128];
		pubkey_format(k->pk, derived, sizeof derived);
		if (strcmp(derived, k->pub) != 0)
			rc = error_set(ERR_INVALID, _("%s: the key file is damaged"), path);
	}
	if (rc) {
		sign_key_free(k);
		return rc;
	}
	if (failures)
		record_attempt(state_path, 0);
	*out = k;
	return 0;
}

void sign_key_free(sign_key *k)
{
	if (!k)
		return;
	sodium_free(k->sk);
	free(k);
}

const char *sign_key_public(const sign_key *k) { return k->pub; }

/* --- SSHSIG ----------------------------------------------------------------------------- */

static void signed_message(wbuf *m, const char *ns, const void *data, size_t len)
{
	unsigned char h[crypto_hash_sha512_BYTES];
	crypto_hash_sha512(h, data, len);
	put(m, "SSHSIG", 6);
	put_str(m, ns, strlen(ns));
	put_str(m, "", 0);
	put_str(m, "sha512", 6);
	put_str(m, h, sizeof h);
}

static char *armor(const unsigned char *blob, size_t n)
{
	char *raw = b64(blob, n), *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	if (!raw || !f) {
		free(raw);
		if (f)
			fclose(f);
		return NULL;
	}
	fprintf(f, "%s\n", ARMOR_BEGIN);
	for (size_t i = 0, l = strlen(raw); i < l; i += 70)
		fprintf(f, "%.70s\n", raw + i);
	fprintf(f, "%s\n", ARMOR_END);
	fclose(f);
	free(raw);
	return out;
}

int sign_data(const sign_key *k, const char *ns, const void *data, size_t len, char **armored)
{
	wbuf m = {0}, sigb = {0}, blob = {0};
	unsigned char sig[crypto_sign_BYTES];
	signed_message(&m, ns, data, len);
	int rc = 0;
	if (!m.oom)
		crypto_sign_detached(sig, NULL, m.p, m.len, k->sk);
	put_str(&sigb, KEY_TYPE, strlen(KEY_TYPE));
	put_str(&sigb, sig, sizeof sig);
	wbuf pkb = {0};
	pubkey_blob(&pkb, k->pk);
	put(&blob, "SSHSIG", 6);
	put_u32(&blob, 1);
	put_str(&blob, pkb.p, pkb.len);
	put_str(&blob, ns, strlen(ns));
	put_str(&blob, "", 0);
	put_str(&blob, "sha512", 6);
	put_str(&blob, sigb.p, sigb.len);
	if (m.oom || sigb.oom || pkb.oom || blob.oom || !(*armored = armor(blob.p, blob.len)))
		rc = error_set(ERR_NOMEM, "out of memory");
	free(m.p);
	free(sigb.p);
	free(pkb.p);
	free(blob.p);
	return rc;
}

/* Strip the armor lines and decode. */
static int dearmor(const char *text, size_t len, unsigned char **out, size_t *n)
{
	const char *b = memmem(text, len, ARMOR_BEGIN, strlen(ARMOR_BEGIN));
	const char *e = memmem(text, len, ARMOR_END, strlen(ARMOR_END));
	if (!b || !e || e < b)
		return error_set(ERR_INVALID, _("not an SSH signature (no armor)"));
	b += strlen(ARMOR_BEGIN);
	size_t blen = (size_t)(e - b);
	*out = malloc(blen);
	if (!*out)
		return error_set(ERR_NOMEM, "out of memory");
	if (sodium_base642bin(*out, blen, b, blen, "\r\n \t", n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(*out);
		return error_set(ERR_INVALID, _("the signature is not valid base64"));
	}
	return 0;
}

int sign_verify(const char *ns, const void *data, size_t len, const char *armored,
		size_t armored_len, char *signer, size_t signer_size)
{
	unsigned char *blob = NULL;
	size_t n;
	int rc = dearmor(armored, armored_len, &blob, &n);
	if (rc)
		return rc;
	rbuf r = {blob, n, false};
	size_t pkn, nsn, resn, hn, sn, tn, kn, t2n, s2n;
	const unsigned char *magic = r.left >= 6 ? r.p : NULL;
	if (magic) {
		r.p += 6;
		r.left -= 6;
	}
	uint32_t version = get_u32(&r);
	const unsigned char *pkb = get_str(&r, &pkn), *nsb = get_str(&r, &nsn);
	get_str(&r, &resn);
	const unsigned char *hash = get_str(&r, &hn), *sigb = get_str(&r, &sn);
	rbuf pr = {pkb, pkn, r.bad}, sr = {sigb, sn, r.bad};
	const unsigned char *t = get_str(&pr, &tn), *k = get_str(&pr, &kn);
	const unsigned char *t2 = get_str(&sr, &t2n), *s = get_str(&sr, &s2n);
	wbuf m = {0};
	if (!magic || memcmp(magic, "SSHSIG", 6) != 0 || version != 1 || r.bad || pr.bad || sr.bad)
		rc = error_set(ERR_INVALID, _("malformed SSH signature"));
	else if (!str_is(t, tn, KEY_TYPE) || kn != 32 || !str_is(t2, t2n, KEY_TYPE) || s2n != 64)
		rc = error_set(ERR_INVALID, _("unsupported signature key type"));
	else if (!str_is(nsb, nsn, ns))
		rc = error_set(ERR_INVALID, _("signature namespace is \"%.*s\", expected \"%s\""),
			       (int)(nsn < 64 ? nsn : 64), (const char *)nsb, ns);
	else if (!str_is(hash, hn, "sha512"))
		rc = error_set(ERR_INVALID, _("unsupported signature hash"));
	if (rc == 0) {
		signed_message(&m, ns, data, len);
		if (m.oom || crypto_sign_verify_detached(s, m.p, m.len, k) != 0)
			rc = error_set(ERR_INVALID, _("the signature does not match the content"));
		else if (signer)
			rc = pubkey_format(k, signer, signer_size);
	}
	free(m.p);
	free(blob);
	return rc;
}
