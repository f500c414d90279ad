/* ops.h — the small vector operations the forward pass, the sampler and the
 * evaluators share (llama2.c's definitions, so results follow the reference). */
#ifndef QL_MODEL_OPS_H
#define QL_MODEL_OPS_H

/* In place: x[i] = exp(x[i] - max) / sum (float accumulation, like llama2.c). */
void ops_softmax(float *x, int size);

/* o = x / sqrt(mean(x^2) + eps) * weight; o may alias x. */
void ops_rmsnorm(float *o, const float *x, const float *weight, int size, float eps);

/* log(sum(exp(x))) computed in double, stable for any range. */
double ops_logsumexp(const float *x, int size);

#endif
