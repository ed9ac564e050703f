# fieldbook — build, run, test.  See README.md.
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc

PKGS := libgit2 jansson yaml-0.1 sqlite3 libsodium libexif ncursesw chafa libjpeg libutf8proc
DEB_PKGS := build-essential pkg-config libgit2-dev libjansson-dev libyaml-dev \
	libsqlite3-dev libsodium-dev libexif-dev libncurses-dev libchafa-dev \
	libjpeg-dev libutf8proc-dev libcmocka-dev gettext git tmux sqlite3 locales \
	openssh-client jq

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

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
TOOL_SRC := $(sort $(wildcard test/tools/*.c))
TOOL_BIN := $(TOOL_SRC:test/tools/%.c=$(BUILD)/tools/%)
PO       := $(wildcard share/po/*.po)
MO       := $(PO:share/po/%.po=$(BUILD)/locale/%/LC_MESSAGES/fieldbook.mo)

.PHONY: all run test check-asan install uninstall deps check-deps clean demo \
	unit tools bench fuzz pot

all: check-deps $(BUILD)/fieldbook $(MO)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libfbcore.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/fieldbook: $(APP_OBJ) $(BUILD)/libfbcore.a
	$(CC) -o $@ $(APP_OBJ) $(BUILD)/libfbcore.a $(LDLIBS_ALL)

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

unit: $(UNIT_BIN)
tools: $(TOOL_BIN)

# Regenerate the message template from the sources.
pot:
	xgettext --from-code=UTF-8 -k_ -kN_ -o share/po/fieldbook.pot \
		--package-name=fieldbook $(CORE_SRC) $(CLI_SRC) $(TUI_SRC)

# Install missing Debian packages (apt-get when root, else print the command).
deps:
	@sh share/deps.sh $(DEB_PKGS)

check-deps:
	@pkg-config --exists $(PKGS) cmocka && command -v msgfmt >/dev/null \
		|| sh share/deps.sh $(DEB_PKGS)

demo: all tools
	@sh share/demo/make-demo.sh $(BUILD)

run: all tools
	@sh share/demo/make-demo.sh $(BUILD)
	FIELDBOOK_HOME=$(CURDIR)/$(BUILD)/demo $(BUILD)/fieldbook

test: all unit tools
	@sh test/run $(BUILD)

check-asan:
	$(MAKE) BUILD=build-asan SANFLAGS='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' CFLAGS='-O1 -g' test

bench: all tools
	@sh test/bench/run $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/fieldbook/forms \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 0755 $(BUILD)/fieldbook $(DESTDIR)$(PREFIX)/bin/fieldbook
	install -m 0644 forms/*.yaml $(DESTDIR)$(PREFIX)/share/fieldbook/forms/
	install -m 0755 sync/hub-init $(DESTDIR)$(PREFIX)/bin/fieldbook-hub-init 2>/dev/null || true
	for f in share/man/*.1; do [ -f $$f ] && install -m 0644 $$f $(DESTDIR)$(PREFIX)/share/man/man1/; done; true
	for f in share/man/*.5; do [ -f $$f ] && install -m 0644 $$f $(DESTDIR)$(PREFIX)/share/man/man5/; done; true
	for m in $(MO); do l=$${m#$(BUILD)/locale/}; install -d $(DESTDIR)$(PREFIX)/share/locale/$$(dirname $$l); \
		install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/locale/$$l; done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/fieldbook $(DESTDIR)$(PREFIX)/bin/fieldbook-hub-init
	rm -rf $(DESTDIR)$(PREFIX)/share/fieldbook
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/fieldbook*.1 $(DESTDIR)$(PREFIX)/share/man/man5/fieldbook*.5
	rm -f $(DESTDIR)$(PREFIX)/share/locale/*/LC_MESSAGES/fieldbook.mo

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
