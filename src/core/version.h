/* version: the one place the program version is written. */
#ifndef FB_VERSION_H
#define FB_VERSION_H

#define FIELDBOOK_VERSION "0.1.0"

#endif
