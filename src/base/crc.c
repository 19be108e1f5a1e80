/*
 * crc.c - CRC-32 through libdeflate.
 */
#include "base/crc.h"

#include <libdeflate.h>

uint32_t crc_update(uint32_t crc, const void *p, size_t n)
{
    return libdeflate_crc32(crc, p, n);
}
