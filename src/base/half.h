/* half.h — IEEE half (F16) and bfloat16 (BF16) conversion, bit-exact with ggml.
 *
 * Conversions to the 16-bit formats round to nearest, ties to even (ggml's
 * ggml_compute_fp32_to_fp16 / ggml_compute_fp32_to_bf16), so F16 and BF16 tensors
 * and Q8_0/Q4_0 block scales come out byte-identical to what llama.cpp writes.
 */
#ifndef QL_BASE_HALF_H
#define QL_BASE_HALF_H

#include <stdint.h>

float half_to_f32(uint16_t h);
uint16_t half_from_f32(float f);
float bf16_to_f32(uint16_t h);
uint16_t bf16_from_f32(float f);

#endif
