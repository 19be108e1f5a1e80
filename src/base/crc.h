/*
 * crc.h - CRC-32, the checksum of the index file's header and sections.
 *
 * The CRC-32 of gzip and zlib's crc32() (reflected polynomial 0xEDB88320, initial and final
 * inversion), computed by libdeflate, which uses the processor's carry-less multiply where it
 * has one: about 14 GB/s here against zlib 1.2.13's 4 GB/s, so that the checksum pass over a
 * country's index at every start costs a tenth of a second, not a third.
 */
#ifndef GEOBATCH_CRC_H
#define GEOBATCH_CRC_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32 of n bytes at p continuing crc (0 to start a new one): crc_update(crc_update(0, a,
 * na), b, nb) is the CRC-32 of a then b. Any length. */
uint32_t crc_update(uint32_t crc, const void *p, size_t n);

#endif
