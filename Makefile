# fieldbook — build, run, test.  See README.md.
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc

# What every fieldbook process links; the heavy parts are plugins (src/plugin,
# see src/core/plugin.h), each linked with its own libraries.
CORE_PKGS := libgit2 jansson yaml-0.1 sqlite3 libsodium libexif ncursesw libjpeg libutf8proc libzip zlib \
	libcrypto
PLUGINS := report gps chafa
PLUGIN_PKGS_report := jansson glib-2.0 cairo pangocairo pangoft2 fontconfig libjpeg
PLUGIN_PKGS_gps := libgps
PLUGIN_PKGS_chafa := chafa
PKGS := $(CORE_PKGS) chafa libgps cairo pangocairo pangoft2 fontconfig
DEB_PKGS := build-essential pkg-config libgit2-dev zlib1g-dev libjansson-dev libyaml-dev \
	libsqlite3-dev libsodium-dev libexif-dev libncurses-dev libchafa-dev \
	libjpeg-dev libutf8proc-dev libcmocka-dev gettext git tmux sqlite3 locales \
	openssh-client jq libgps-dev gpsd gpsd-clients clang libclang-rt-14-dev \
	libzip-dev libssl-dev libcairo2-dev libpango1.0-dev fonts-wqy-microhei poppler-utils \
	openssh-server python3 bc libimage-exiftool-perl

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(CORE_PKGS) 2>/dev/null) -lm

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) $(PKG_CFLAGS) \
	-Isrc -DFB_PREFIX='"$(PREFIX)"'
LDLIBS_ALL = $(SANFLAGS) $(PKG_LIBS)

CORE_SRC := $(sort $(wildcard src/core/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TUI_SRC  := $(sort $(wildcard src/tui/*.c))
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
APP_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o) $(TUI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard test/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/%)
PLUGIN_SO := $(PLUGINS:%=$(BUILD)/fieldbook-%.so)
TOOL_SRC := $(sort $(wildcard test/tools/*.c))
TOOL_BIN := $(TOOL_SRC:test/tools/%.c=$(BUILD)/tools/%)
PO       := $(wildcard share/po/*.po)
MO       := $(PO:share/po/%.po=$(BUILD)/locale/%/LC_MESSAGES/fieldbook.mo)

.PHONY: all programs run test check-asan install uninstall deps check-deps clean demo \
	unit tools bench fuzz pot po print-cflags print-libs

# pkg-config's flags are read when make reads this file.  On a fresh machine
# deps/check-deps install the libraries first, so the entry points build in a
# second make that reads the flags again (`$(MAKE) programs`).

all: check-deps
	@$(MAKE) --no-print-directory programs

programs: $(BUILD)/fieldbook $(PLUGIN_SO) $(MO)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libfbcore.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/fieldbook: $(APP_OBJ) $(BUILD)/libfbcore.a
	$(CC) -o $@ $(APP_OBJ) $(BUILD)/libfbcore.a $(LDLIBS_ALL)

$(BUILD)/fieldbook-%.so: src/plugin/plugin_%.c src/core/plugin.h
	$(CC) $(ALL_CFLAGS) -fPIC -shared -MMD -MP -o $@ $< $(SANFLAGS) \
		$$(pkg-config --libs $(PLUGIN_PKGS_$*))

$(BUILD)/test/%: test/unit/%.c $(BUILD)/libfbcore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-error=deprecated-declarations -o $@ $< \
		$(BUILD)/libfbcore.a $(LDLIBS_ALL) $(shell pkg-config --libs cmocka)

$(BUILD)/tools/%: test/tools/%.c $(BUILD)/libfbcore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libfbcore.a $(LDLIBS_ALL)

$(BUILD)/locale/%/LC_MESSAGES/fieldbook.mo: share/po/%.po
	@mkdir -p $(dir $@)
	msgfmt --check -o $@ $<

# For scripts that build against the core (test/bench/build).
print-cflags:
	@echo $(ALL_CFLAGS)
print-libs:
	@echo $(LDLIBS_ALL)

unit: $(UNIT_BIN)
tools: $(TOOL_BIN)

# Regenerate the message template from the sources.
pot:
	xgettext --from-code=UTF-8 -k_ -kN_ -o share/po/fieldbook.pot \
		--package-name=fieldbook $(CORE_SRC) $(CLI_SRC) $(TUI_SRC)

# Merge new messages into the catalogues (zh_CN needs translating after;
# en is generated: English msgids are the English text).
po: pot
	msgmerge -q --no-fuzzy-matching --backup=none -U share/po/zh_CN.po share/po/fieldbook.pot
	msgattrib --no-obsolete share/po/zh_CN.po -o share/po/zh_CN.po
	msginit --no-translator -l en -i share/po/fieldbook.pot -o share/po/en.po
	@msgfmt --statistics -o /dev/null share/po/zh_CN.po

# Install missing Debian packages (apt-get when root, else print the command).
deps:
	@sh share/deps.sh $(DEB_PKGS)

check-deps:
	@pkg-config --exists $(PKGS) cmocka && command -v msgfmt >/dev/null \
		|| sh share/deps.sh $(DEB_PKGS)

demo: check-deps
	@$(MAKE) --no-print-directory programs tools
	@sh share/demo/make-demo.sh $(BUILD)

run: deps
	@$(MAKE) --no-print-directory programs tools
	@sh share/demo/make-demo.sh $(BUILD)
	FIELDBOOK_HOME=$(CURDIR)/$(BUILD)/demo $(BUILD)/fieldbook

test: deps
	@$(MAKE) --no-print-directory programs unit tools
	@sh test/run $(BUILD)

check-asan:
	LSAN_OPTIONS=suppressions=$(CURDIR)/test/lsan.supp:print_suppressions=0 \
	$(MAKE) BUILD=build-asan SANFLAGS='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' CFLAGS='-O1 -g' test

bench: check-deps
	@$(MAKE) --no-print-directory programs tools
	@sh test/bench/run $(BUILD)

FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_PKGS    := jansson libexif libjpeg libsodium libcrypto libutf8proc
FUZZ_SEEDS   ?= ../shared/testdata/photos
FUZZ_DIR     := $(BUILD)/fuzz

$(FUZZ_DIR)/fuzz_photo: test/fuzz/fuzz_photo.c src/core/photo.c src/core/error.c src/core/util.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -std=c17 -D_GNU_SOURCE -Isrc \
		$(shell pkg-config --cflags $(FUZZ_PKGS)) $^ $(shell pkg-config --libs $(FUZZ_PKGS)) -lm -o $@

$(FUZZ_DIR)/fuzz_loose: test/fuzz/fuzz_loose.c src/core/loose.c src/core/error.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -std=c17 -D_GNU_SOURCE -Isrc \
		$^ -lz -o $@

# Bounded libFuzzer runs (FUZZ_SECONDS): the JPEG/EXIF path, seeded with the
# shared test photos when present and with photos made by mkjpeg; then
# loose object files as a hub may hold them (a quarter of the time), seeded
# with objects written by stock git.
fuzz: $(FUZZ_DIR)/fuzz_photo $(FUZZ_DIR)/fuzz_loose $(BUILD)/tools/mkjpeg
	@rm -rf $(FUZZ_DIR)/seeds && mkdir -p $(FUZZ_DIR)/seeds $(FUZZ_DIR)/corpus
	@if [ -d $(FUZZ_SEEDS) ]; then cp $(FUZZ_SEEDS)/*.jpg $(FUZZ_DIR)/seeds/; fi
	$(BUILD)/tools/mkjpeg $(FUZZ_DIR)/seeds/mk-gps.jpg --lat 24.414 --lon 111.566 --alt 12 \
		--taken "2026:11:23 12:00:00" --offset +08:00 --make Fieldcam --model FC1 --seed 1
	$(BUILD)/tools/mkjpeg $(FUZZ_DIR)/seeds/mk-be.jpg --big-endian --lat -33.9 --lon -70.6 \
		--gps-time "2026:11:23 04:00:00" --orientation 6 --seed 2
	$(BUILD)/tools/mkjpeg $(FUZZ_DIR)/seeds/mk-noexif.jpg --no-exif --seed 3
	$(FUZZ_DIR)/fuzz_photo -max_total_time=$(FUZZ_SECONDS) -max_len=1048576 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 $(FUZZ_DIR)/corpus $(FUZZ_DIR)/seeds
	@rm -rf $(FUZZ_DIR)/loose-git $(FUZZ_DIR)/loose-seeds && mkdir -p $(FUZZ_DIR)/loose-seeds \
		$(FUZZ_DIR)/loose-corpus && git init -q --bare $(FUZZ_DIR)/loose-git
	@printf '{"id": "x"}' | git --git-dir=$(FUZZ_DIR)/loose-git hash-object -w --stdin >/dev/null
	@git --git-dir=$(FUZZ_DIR)/loose-git hash-object -w $(FUZZ_DIR)/seeds/mk-gps.jpg >/dev/null
	@git --git-dir=$(FUZZ_DIR)/loose-git mktree </dev/null >/dev/null
	@find $(FUZZ_DIR)/loose-git/objects -type f -path '*/objects/??/*' -exec cp {} $(FUZZ_DIR)/loose-seeds/ \;
	$(FUZZ_DIR)/fuzz_loose -max_total_time=$$(( $(FUZZ_SECONDS) / 4 + 1 )) -max_len=65536 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 $(FUZZ_DIR)/loose-corpus $(FUZZ_DIR)/loose-seeds

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/fieldbook/forms \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 0755 $(BUILD)/fieldbook $(DESTDIR)$(PREFIX)/bin/fieldbook
	install -d $(DESTDIR)$(PREFIX)/lib/fieldbook
	install -m 0644 $(PLUGIN_SO) $(DESTDIR)$(PREFIX)/lib/fieldbook/
	install -m 0644 forms/*.yaml $(DESTDIR)$(PREFIX)/share/fieldbook/forms/
	install -m 0755 sync/hub-init $(DESTDIR)$(PREFIX)/bin/fieldbook-hub-init 2>/dev/null || true
	for f in share/man/*.1; do [ -f $$f ] && install -m 0644 $$f $(DESTDIR)$(PREFIX)/share/man/man1/; done; true
	for f in share/man/*.5; do [ -f $$f ] && install -m 0644 $$f $(DESTDIR)$(PREFIX)/share/man/man5/; done; true
	for m in $(MO); do l=$${m#$(BUILD)/locale/}; install -d $(DESTDIR)$(PREFIX)/share/locale/$$(dirname $$l); \
		install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/locale/$$l; done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/fieldbook $(DESTDIR)$(PREFIX)/bin/fieldbook-hub-init
	rm -rf $(DESTDIR)$(PREFIX)/share/fieldbook $(DESTDIR)$(PREFIX)/lib/fieldbook
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/fieldbook*.1 $(DESTDIR)$(PREFIX)/share/man/man5/fieldbook*.5
	rm -f $(DESTDIR)$(PREFIX)/share/locale/*/LC_MESSAGES/fieldbook.mo

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
