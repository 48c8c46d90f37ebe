/* LOB-3D depth aggregation, kept apart from matching: it only reads the books. */
#include "rex_core.h"

int32_t rex_depth(const rex_exchange *ex, int32_t b, int side, int32_t k, double *price,
                  double *depth) {
    const rex_book *bk = &ex->books[b];
    const rex_side *s = side == REX_BUY ? &bk->bids : &bk->asks;
    int32_t m = 0;
    for (int32_t i = s->n - 1; i >= 0 && m < k; i--, m++) {
        const rex_level *L = &ex->levels[s->lv[i]];
        price[m] = (double)L->price;
        depth[m] = (double)L->volume;
    }
    return m;
}
