// Reference convolution: the seven loops of the slide, and the same loops for the backward.
// No im2col, no GEMM, no threads. The fast kernels in cpu/conv.cpp are tested against these.
// Index names: n image, o output channel, i j output position, c input channel within the
// group, p q kernel position; (h, w) = (i*sh - pt + p*dh, j*sw - pl + q*dw) is the input pixel.
#include "kernels/conv.h"

namespace pydl::kernels {

template <typename T>
void conv2d_forward_reference(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y) {
  const int64_t cg = g.cg(), og = g.og();
  // y[n,o,i,j] = b[o] + Σ_{c,p,q} x[n, group(o)·cg + c, i·sh − pt + p·dh, j·sw − pl + q·dw] · w[o,c,p,q]
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t o = 0; o < g.O; ++o)
      for (int64_t i = 0; i < g.Ho; ++i)
        for (int64_t j = 0; j < g.Wo; ++j) {
          const int64_t c0 = (o / og) * cg;  // first input channel of o's group
          T sum = b ? b[o] : T(0);
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t p = 0; p < g.kh; ++p)
              for (int64_t q = 0; q < g.kw; ++q) {
                const int64_t h = i * g.sh - g.pt + p * g.dh, wc = j * g.sw - g.pl + q * g.dw;
                if (h < 0 || h >= g.H || wc < 0 || wc >= g.W) continue;  // zero padding
                sum += x[((n * g.C + c0 + c) * g.H + h) * g.W + wc] * w[((o * cg + c) * g.kh + p) * g.kw + q];
              }
          y[((n * g.O + o) * g.Ho + i) * g.Wo + j] = sum;
        }
}

template <typename T>
void conv2d_backward_input_reference(const Conv2dGeom& g, const T* gy, const T* w, T* gx) {
  const int64_t cg = g.cg(), og = g.og();
  for (int64_t k = 0; k < g.N * g.C * g.H * g.W; ++k) gx[k] = T(0);
  // gx[n, group(o)·cg + c, i·sh − pt + p·dh, j·sw − pl + q·dw] += gy[n,o,i,j] · w[o,c,p,q]
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t o = 0; o < g.O; ++o)
      for (int64_t i = 0; i < g.Ho; ++i)
        for (int64_t j = 0; j < g.Wo; ++j) {
          const int64_t c0 = (o / og) * cg;
          const T d = gy[((n * g.O + o) * g.Ho + i) * g.Wo + j];
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t p = 0; p < g.kh; ++p)
              for (int64_t q = 0; q < g.kw; ++q) {
                const int64_t h = i * g.sh - g.pt + p * g.dh, wc = j * g.sw - g.pl + q * g.dw;
                if (h < 0 || h >= g.H || wc < 0 || wc >= g.W) continue;
                gx[((n * g.C + c0 + c) * g.H + h) * g.W + wc] += d * w[((o * cg + c) * g.kh + p) * g.kw + q];
              }
        }
}

template <typename T>
void conv2d_backward_weight_reference(const Conv2dGeom& g, const T* gy, const T* x, T* gw) {
  const int64_t cg = g.cg(), og = g.og();
  // gw[o,c,p,q] = Σ_{n,i,j} gy[n,o,i,j] · x[n, group(o)·cg + c, i·sh − pt + p·dh, j·sw − pl + q·dw]
  for (int64_t o = 0; o < g.O; ++o)
    for (int64_t c = 0; c < cg; ++c)
      for (int64_t p = 0; p < g.kh; ++p)
        for (int64_t q = 0; q < g.kw; ++q) {
          const int64_t c0 = (o / og) * cg;
          T sum = 0;
          for (int64_t n = 0; n < g.N; ++n)
            for (int64_t i = 0; i < g.Ho; ++i)
              for (int64_t j = 0; j < g.Wo; ++j) {
                const int64_t h = i * g.sh - g.pt + p * g.dh, wc = j * g.sw - g.pl + q * g.dw;
                if (h < 0 || h >= g.H || wc < 0 || wc >= g.W) continue;
                sum += gy[((n * g.O + o) * g.Ho + i) * g.Wo + j] * x[((n * g.C + c0 + c) * g.H + h) * g.W + wc];
              }
          gw[((o * cg + c) * g.kh + p) * g.kw + q] = sum;
        }
}

template <typename T>
void conv2d_transpose_forward_reference(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y) {
  // Here the op's input channels are g.O (index ci) and its output channels g.C (group(ci)·cg + c);
  // each input pixel (i, j) stamps its kernel onto the output, scaled by x:
  // y[n, group(ci)·cg + c, i·sh − pt + p·dh, j·sw − pl + q·dw] += x[n,ci,i,j] · w[ci,c,p,q]
  const int64_t cg = g.cg(), og = g.og();
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t co = 0; co < g.C; ++co)
      for (int64_t h = 0; h < g.H; ++h)
        for (int64_t wc = 0; wc < g.W; ++wc) y[((n * g.C + co) * g.H + h) * g.W + wc] = b ? b[co] : T(0);
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t ci = 0; ci < g.O; ++ci)
      for (int64_t i = 0; i < g.Ho; ++i)
        for (int64_t j = 0; j < g.Wo; ++j) {
          const int64_t c0 = (ci / og) * cg;
          const T v = x[((n * g.O + ci) * g.Ho + i) * g.Wo + j];
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t p = 0; p < g.kh; ++p)
              for (int64_t q = 0; q < g.kw; ++q) {
                const int64_t h = i * g.sh - g.pt + p * g.dh, wc = j * g.sw - g.pl + q * g.dw;
                if (h < 0 || h >= g.H || wc < 0 || wc >= g.W) continue;  // cropped by the padding
                y[((n * g.C + c0 + c) * g.H + h) * g.W + wc] += v * w[((ci * cg + c) * g.kh + p) * g.kw + q];
              }
        }
}

#define PYDL_CONV_REF(T)                                                                          \
  template void conv2d_forward_reference<T>(const Conv2dGeom&, const T*, const T*, const T*, T*); \
  template void conv2d_backward_input_reference<T>(const Conv2dGeom&, const T*, const T*, T*);    \
  template void conv2d_backward_weight_reference<T>(const Conv2dGeom&, const T*, const T*, T*);   \
  template void conv2d_transpose_forward_reference<T>(const Conv2dGeom&, const T*, const T*, const T*, T*);
PYDL_CONV_REF(float)
PYDL_CONV_REF(double)
#undef PYDL_CONV_REF

}  // namespace pydl::kernels
