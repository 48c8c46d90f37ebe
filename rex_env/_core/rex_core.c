/* Rex exchange core: books, matching, auction, lifecycle, accounting (see rex_core.h).
 *
 * The reference is the pure-Python engine in rex_env/exchange/: every rule below mirrors it
 * one for one (the differential tests compare the two on every report). Differences in
 * layout only: a cancelled order is unlinked from its level at once (the Python book drops it
 * lazily), and levels sit in a pool with a sorted index array per side, best last.
 */
#include "rex_core.h"

#include <stdlib.h>
#include <string.h>

#define MAP_EMPTY INT64_MIN

/* grow a dynamic array to hold at least `need` items; on failure flag the exchange */
#define GROW(ex, ptr, cap, need, type)                                                   \
    do {                                                                                 \
        if ((int64_t)(need) > (int64_t)(cap)) {                                          \
            int64_t ncap_ = (cap) ? (int64_t)(cap) * 2 : 16;                             \
            while (ncap_ < (int64_t)(need)) ncap_ *= 2;                                  \
            if (ncap_ > INT32_MAX) ncap_ = INT32_MAX;                                    \
            if (ncap_ < (int64_t)(need)) { (ex)->oom = 1; return -1; }                   \
            type *p_ = (type *)realloc((ptr), (size_t)ncap_ * sizeof(type));             \
            if (!p_) { (ex)->oom = 1; return -1; }                                       \
            (ptr) = p_;                                                                  \
            (cap) = (int32_t)ncap_;                                                      \
        }                                                                                \
    } while (0)

/* ---- hash map int64 -> int32 (open addressing, no deletion) -------------------------
 * The first probe is the key itself (sequential ids land in neighbouring slots, so lookups
 * stay in cache); collisions follow CPython's dict probe (i = 5i + 1 + perturb, perturb >>= 5),
 * which visits every slot and spreads keys that share their low bits. */
static int32_t map_get(const rex_map *m, int64_t k) {
    if (!m->cap) return -1;
    uint64_t mask = (uint64_t)m->cap - 1, perturb = (uint64_t)k, i = perturb & mask;
    for (;;) {
        int64_t kk = m->keys[i];
        if (kk == k) return m->vals[i];
        if (kk == MAP_EMPTY) return -1;
        perturb >>= 5;
        i = (i * 5 + perturb + 1) & mask;
    }
}

static void map_insert_raw(rex_map *m, int64_t k, int32_t v) {
    uint64_t mask = (uint64_t)m->cap - 1, perturb = (uint64_t)k, i = perturb & mask;
    while (m->keys[i] != MAP_EMPTY && m->keys[i] != k) {
        perturb >>= 5;
        i = (i * 5 + perturb + 1) & mask;
    }
    if (m->keys[i] == MAP_EMPTY) m->n++;
    m->keys[i] = k;
    m->vals[i] = v;
}

static int map_put(rex_exchange *ex, rex_map *m, int64_t k, int32_t v) {
    if ((m->n + 1) * 2 > m->cap) {
        int64_t ncap = m->cap ? m->cap * 2 : 64;
        int64_t *nk = (int64_t *)malloc((size_t)ncap * sizeof(int64_t));
        int32_t *nv = (int32_t *)malloc((size_t)ncap * sizeof(int32_t));
        if (!nk || !nv) {
            free(nk);
            free(nv);
            ex->oom = 1;
            return -1;
        }
        for (int64_t i = 0; i < ncap; i++) nk[i] = MAP_EMPTY;
        rex_map old = *m;
        m->keys = nk;
        m->vals = nv;
        m->cap = ncap;
        m->n = 0;
        for (int64_t i = 0; i < old.cap; i++)
            if (old.keys[i] != MAP_EMPTY) map_insert_raw(m, old.keys[i], old.vals[i]);
        free(old.keys);
        free(old.vals);
    }
    map_insert_raw(m, k, v);
    return 0;
}

static void map_clear(rex_map *m) {
    for (int64_t i = 0; i < m->cap; i++) m->keys[i] = MAP_EMPTY;
    m->n = 0;
}

/* (level, owner) -> open rate: same probing, int64 values, entries never removed (a level's
 * entries are all zero when it is freed, so a reused level starts clean) */
static int64_t own_key(int32_t level, int32_t owner) {
    return ((int64_t)level << 32) | (int64_t)(uint32_t)owner;
}

/* first probe: a level's owners side by side (owner ids are small), so the entries one
 * instruction touches share cache lines */
static uint64_t vmap_home(int64_t k) {
    return ((uint64_t)k >> 32 << 6) ^ (uint64_t)(uint32_t)k;
}

static int64_t vmap_get(const rex_vmap *m, int64_t k) {
    if (!m->cap) return 0;
    uint64_t mask = (uint64_t)m->cap - 1, perturb = (uint64_t)k, i = vmap_home(k) & mask;
    for (;;) {
        int64_t kk = m->keys[i];
        if (kk == k) return m->vals[i];
        if (kk == MAP_EMPTY) return 0;
        perturb >>= 5;
        i = (i * 5 + perturb + 1) & mask;
    }
}

static int64_t *vmap_slot(rex_vmap *m, int64_t k) {
    uint64_t mask = (uint64_t)m->cap - 1, perturb = (uint64_t)k, i = vmap_home(k) & mask;
    while (m->keys[i] != MAP_EMPTY && m->keys[i] != k) {
        perturb >>= 5;
        i = (i * 5 + perturb + 1) & mask;
    }
    if (m->keys[i] == MAP_EMPTY) {
        m->keys[i] = k;
        m->vals[i] = 0;
        m->n++;
    }
    return &m->vals[i];
}

static int vmap_add(rex_exchange *ex, int32_t level, int32_t owner, int64_t delta) {
    rex_vmap *m = &ex->own_at_level;
    if (!delta) return 0;
    if ((m->n + 1) * 2 > m->cap) {
        int64_t ncap = m->cap ? m->cap * 2 : 256;
        int64_t *nk = (int64_t *)malloc((size_t)ncap * sizeof(int64_t));
        int64_t *nv = (int64_t *)malloc((size_t)ncap * sizeof(int64_t));
        if (!nk || !nv) {
            free(nk);
            free(nv);
            ex->oom = 1;
            return -1;
        }
        for (int64_t i = 0; i < ncap; i++) nk[i] = MAP_EMPTY;
        rex_vmap old = *m;
        m->keys = nk;
        m->vals = nv;
        m->cap = ncap;
        m->n = 0;
        for (int64_t i = 0; i < old.cap; i++)
            if (old.keys[i] != MAP_EMPTY && old.vals[i]) *vmap_slot(m, old.keys[i]) = old.vals[i];
        free(old.keys);
        free(old.vals);
    }
    *vmap_slot(m, own_key(level, owner)) += delta;
    return 0;
}

/* ---- report buffer ------------------------------------------------------------------- */
static void rep_clear(rex_exchange *ex) {
    rex_report *r = &ex->rep;
    r->status = REX_ST_NONE;
    r->reason = REX_R_NONE;
    r->order = -1;
    r->n_trades = r->n_stp = r->n_expired = 0;
}

static int reject(rex_exchange *ex, int reason) {
    ex->rep.status = REX_ST_REJECTED;
    ex->rep.reason = reason;
    return REX_ST_REJECTED;
}

static int push_stp(rex_exchange *ex, int32_t h) {
    rex_report *r = &ex->rep;
    GROW(ex, r->stp, r->cap_stp, r->n_stp + 1, int32_t);
    r->stp[r->n_stp++] = h;
    return 0;
}

/* ---- lifecycle of the exchange ------------------------------------------------------- */
rex_exchange *rex_new(int64_t min_ticks, int64_t max_ticks, int auto_open, int64_t n_slots) {
    rex_exchange *ex = (rex_exchange *)calloc(1, sizeof(rex_exchange));
    if (!ex) return NULL;
    ex->min_ticks = min_ticks;
    ex->max_ticks = max_ticks;
    ex->auto_open = auto_open;
    ex->n_slots = n_slots;
    ex->free_level = -1;
    rep_clear(ex);
    return ex;
}

static void book_free(rex_book *bk) {
    free(bk->bids.lv);
    free(bk->asks.lv);
    free(bk->own);
    free(bk->pos);
    free(bk->cash);
    free(bk->own_ix);
}

void rex_free(rex_exchange *ex) {
    if (!ex) return;
    for (int32_t i = 0; i < ex->n_books; i++) book_free(&ex->books[i]);
    free(ex->books);
    free(ex->orders);
    free(ex->levels);
    free(ex->slot_map.keys);
    free(ex->slot_map.vals);
    free(ex->key_map.keys);
    free(ex->key_map.vals);
    free(ex->own_at_level.keys);
    free(ex->own_at_level.vals);
    free(ex->rep.trades);
    free(ex->rep.stp);
    free(ex->rep.expired);
    free(ex);
}

int rex_reset(rex_exchange *ex) {
    for (int32_t i = 0; i < ex->n_books; i++) book_free(&ex->books[i]);
    ex->n_books = 0;
    ex->n_orders = 0;
    ex->n_levels = 0;
    ex->free_level = -1;
    map_clear(&ex->slot_map);
    map_clear(&ex->key_map);
    for (int64_t i = 0; i < ex->own_at_level.cap; i++) ex->own_at_level.keys[i] = MAP_EMPTY;
    ex->own_at_level.n = 0;
    ex->now = ex->seq = ex->n_trades = 0;
    ex->oom = 0;
    rep_clear(ex);
    return 0;
}

/* ---- books and levels ---------------------------------------------------------------- */
int rex_phase(const rex_exchange *ex, int64_t slot) {
    if (slot < 0 || slot > REX_MAX_SLOT || (ex->n_slots >= 0 && slot >= ex->n_slots)) return -1;
    int32_t b = map_get(&ex->slot_map, slot);
    if (b >= 0) return ex->books[b].phase;
    return ex->auto_open ? REX_CONTINUOUS : REX_PENDING;
}

int32_t rex_book_index(const rex_exchange *ex, int64_t slot) {
    return map_get(&ex->slot_map, slot);
}

int32_t rex_order_handle(const rex_exchange *ex, int64_t key) {
    return map_get(&ex->key_map, key);
}

/* the book of a (valid) slot, created on first use; -1 on out-of-memory */
static int32_t book_get(rex_exchange *ex, int64_t slot) {
    int32_t b = map_get(&ex->slot_map, slot);
    if (b >= 0) return b;
    GROW(ex, ex->books, ex->cap_books, ex->n_books + 1, rex_book);
    b = ex->n_books;
    rex_book *bk = &ex->books[b];
    memset(bk, 0, sizeof(*bk));
    bk->slot = slot;
    bk->phase = ex->auto_open ? REX_CONTINUOUS : REX_PENDING;
    if (map_put(ex, &ex->slot_map, slot, b) < 0) return -1;
    ex->n_books++;
    return b;
}

static int32_t level_new(rex_exchange *ex, int64_t price) {
    int32_t i;
    if (ex->free_level >= 0) {
        i = ex->free_level;
        ex->free_level = ex->levels[i].next_free;
    } else {
        GROW(ex, ex->levels, ex->cap_levels, ex->n_levels + 1, rex_level);
        i = ex->n_levels++;
    }
    rex_level *L = &ex->levels[i];
    L->price = price;
    L->volume = 0;
    L->head = L->tail = -1;
    L->next_free = -1;
    return i;
}

static void level_free(rex_exchange *ex, int32_t i) {
    ex->levels[i].next_free = ex->free_level;
    ex->free_level = i;
}

/* position of `price` in a side (bids ascending, asks descending): the first index whose
 * price is not worse-ordered before it; *found tells whether it is there */
static int32_t side_search(const rex_exchange *ex, const rex_side *s, int bid, int64_t price,
                           int *found) {
    int32_t lo = 0, hi = s->n;
    while (lo < hi) {
        int32_t mid = (lo + hi) / 2;
        int64_t p = ex->levels[s->lv[mid]].price;
        if (bid ? p < price : p > price)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < s->n && ex->levels[s->lv[lo]].price == price;
    return lo;
}

static void side_drop(rex_exchange *ex, rex_side *s, int bid, int32_t li) {
    int32_t i;
    if (s->n && s->lv[s->n - 1] == li) {
        i = s->n - 1;
    } else {
        int found;
        i = side_search(ex, s, bid, ex->levels[li].price, &found);
    }
    memmove(&s->lv[i], &s->lv[i + 1], (size_t)(s->n - i - 1) * sizeof(int32_t));
    s->n--;
    level_free(ex, li);
}

/* queue a (validated, unmatched) order at the back of its price level */
static int rest(rex_exchange *ex, int32_t b, int32_t h) {
    rex_book *bk = &ex->books[b];
    int bid = ex->orders[h].side == REX_BUY;
    rex_side *s = bid ? &bk->bids : &bk->asks;
    int64_t price = ex->orders[h].price;
    int found;
    int32_t i = side_search(ex, s, bid, price, &found);
    int32_t li;
    if (found) {
        li = s->lv[i];
    } else {
        GROW(ex, s->lv, s->cap, s->n + 1, int32_t);
        li = level_new(ex, price);
        if (li < 0) return -1;
        memmove(&s->lv[i + 1], &s->lv[i], (size_t)(s->n - i) * sizeof(int32_t));
        s->lv[i] = li;
        s->n++;
    }
    rex_level *L = &ex->levels[li];
    rex_order *o = &ex->orders[h];
    o->prev = L->tail;
    o->next = -1;
    if (L->tail >= 0)
        ex->orders[L->tail].next = h;
    else
        L->head = h;
    L->tail = h;
    L->volume += o->rate;
    o->level = li;
    o->book = b;
    return vmap_add(ex, li, o->owner, o->rate);
}

/* take an order out of its level's queue (its open rate leaves the level's volume) */
static void unlink_order(rex_exchange *ex, int32_t h) {
    rex_order *o = &ex->orders[h];
    int32_t li = o->level;
    /* the entry exists (rest made it), so this cannot allocate */
    if (o->rate) *vmap_slot(&ex->own_at_level, own_key(li, o->owner)) -= o->rate;
    rex_level *L = &ex->levels[li];
    if (o->prev >= 0)
        ex->orders[o->prev].next = o->next;
    else
        L->head = o->next;
    if (o->next >= 0)
        ex->orders[o->next].prev = o->prev;
    else
        L->tail = o->prev;
    o->prev = o->next = -1;
    o->level = -1;
    L->volume -= o->rate;
    if (L->head < 0) {
        rex_book *bk = &ex->books[o->book];
        int bid = o->side == REX_BUY;
        side_drop(ex, bid ? &bk->bids : &bk->asks, bid, li);
    }
}

/* ---- accounting ---------------------------------------------------------------------- */
static int32_t own_index(rex_exchange *ex, rex_book *bk, int32_t owner) {
    if (owner >= bk->cap_ix) {
        int32_t old = bk->cap_ix;
        GROW(ex, bk->own_ix, bk->cap_ix, (int64_t)owner + 1, int32_t);
        memset(bk->own_ix + old, 0, (size_t)(bk->cap_ix - old) * sizeof(int32_t));
    }
    int32_t ix = bk->own_ix[owner];
    if (ix) return ix - 1;
    int32_t cap = bk->cap_own;
    GROW(ex, bk->own, cap, bk->n_own + 1, int32_t);
    cap = bk->cap_own;
    GROW(ex, bk->pos, cap, bk->n_own + 1, int64_t);
    cap = bk->cap_own;
    GROW(ex, bk->cash, cap, bk->n_own + 1, rex_i128);
    bk->cap_own = cap;
    ix = bk->n_own++;
    bk->own[ix] = owner;
    bk->pos[ix] = 0;
    bk->cash[ix] = 0;
    bk->own_ix[owner] = ix + 1;
    return ix;
}

/* one execution: the trade record, positions and cash (buyer first), statistics */
static int record_trade(rex_exchange *ex, int32_t b, int64_t time, int64_t price, int64_t rate,
                        int32_t buy_h, int32_t sell_h, int aggressor) {
    rex_report *r = &ex->rep;
    GROW(ex, r->trades, r->cap_trades, r->n_trades + 1, rex_trade);
    rex_trade *t = &r->trades[r->n_trades++];
    rex_book *bk = &ex->books[b];
    t->trade_id = ++ex->n_trades;
    t->time = time;
    t->slot = bk->slot;
    t->price = price;
    t->rate = rate;
    t->buy = buy_h;
    t->sell = sell_h;
    t->aggressor = aggressor;
    rex_i128 value = (rex_i128)price * rate;
    int32_t bi = own_index(ex, bk, ex->orders[buy_h].owner);
    if (bi < 0) return -1;
    int32_t si = own_index(ex, bk, ex->orders[sell_h].owner);
    if (si < 0) return -1;
    bk->pos[bi] += rate;
    bk->pos[si] -= rate;
    bk->cash[bi] -= value;
    bk->cash[si] += value;
    bk->last_price = price;
    bk->volume += rate;
    bk->turnover += value;
    if (bk->n_trades == 0 || price > bk->high) bk->high = price;
    if (bk->n_trades == 0 || price < bk->low) bk->low = price;
    bk->n_trades++;
    return 0;
}

/* ---- continuous matching (SPEC §4) --------------------------------------------------- */
static int match(rex_exchange *ex, int32_t b, int32_t h) {
    rex_order *o = &ex->orders[h];
    int buy = o->side == REX_BUY;
    int32_t owner = o->owner;
    int has_limit = o->has_price;
    int64_t limit = o->price, want = o->rate, time = ex->now;
    while (want) {
        rex_book *bk = &ex->books[b];
        rex_side *opp = buy ? &bk->asks : &bk->bids;
        if (!opp->n) break;
        int32_t li = opp->lv[opp->n - 1];
        int64_t price = ex->levels[li].price;
        if (has_limit && (buy ? price > limit : price < limit)) break;
        while (want && ex->levels[li].head >= 0) {
            rex_level *L = &ex->levels[li];
            int32_t rh = L->head;
            rex_order *r = &ex->orders[rh];
            int64_t rrate = r->rate;
            L->head = r->next;
            if (r->owner == owner) { /* self-trade prevention: cancel the resting order */
                if (r->next >= 0) ex->orders[r->next].prev = -1; else L->tail = -1;
                r->next = r->prev = -1;
                r->level = -1;
                L->volume -= rrate;
                *vmap_slot(&ex->own_at_level, own_key(li, r->owner)) -= rrate;
                r->removed += rrate;
                r->rate = 0;
                r->status = REX_ST_CANCELLED;
                r->reason = REX_R_SELF_TRADE;
                if (push_stp(ex, rh) < 0) return -1;
                continue;
            }
            int64_t fill;
            if (want < rrate) {
                fill = want;
                r->rate = rrate - fill;
                L->head = rh; /* stays at the front */
            } else {
                fill = rrate;
                r->rate = 0;
                r->status = REX_ST_FILLED;
                if (r->next >= 0) ex->orders[r->next].prev = -1; else L->tail = -1;
                r->next = r->prev = -1;
                r->level = -1;
            }
            r->filled += fill;
            L->volume -= fill;
            *vmap_slot(&ex->own_at_level, own_key(li, r->owner)) -= fill;
            want -= fill;
            if (record_trade(ex, b, time, price, fill, buy ? h : rh, buy ? rh : h,
                             buy ? REX_AGG_BUY : REX_AGG_SELL) < 0)
                return -1;
        }
        if (ex->levels[li].head < 0) {
            bk = &ex->books[b];
            opp = buy ? &bk->asks : &bk->bids;
            opp->n--;
            level_free(ex, li);
        }
    }
    o = &ex->orders[h];
    o->filled += o->rate - want;
    o->rate = want;
    return 0;
}

/* can `need` lots be bought/sold now within the limit from other owners' resting orders? */
static int fillable(const rex_exchange *ex, int32_t b, int side, int has_limit, int64_t limit,
                    int32_t owner, int64_t need) {
    const rex_book *bk = &ex->books[b];
    const rex_side *opp = side == REX_BUY ? &bk->asks : &bk->bids;
    int64_t got = 0;
    for (int32_t i = opp->n - 1; i >= 0; i--) {
        const rex_level *L = &ex->levels[opp->lv[i]];
        if (has_limit && (side == REX_BUY ? L->price > limit : L->price < limit)) return 0;
        got += L->volume - vmap_get(&ex->own_at_level, own_key(opp->lv[i], owner));
        if (got >= need) return 1;
    }
    return 0;
}

static int kill(rex_exchange *ex, int32_t h) {
    rex_order *o = &ex->orders[h];
    o->removed += o->rate;
    o->rate = 0;
    o->status = REX_ST_KILLED;
    ex->rep.status = REX_ST_KILLED;
    return REX_ST_KILLED;
}

/* an accepted single-slot order (new, or re-entering after a modify) meets the book */
static int enter(rex_exchange *ex, int32_t b, int32_t h) {
    ex->rep.order = h;
    if (ex->books[b].phase == REX_CALL) { /* collect only */
        if (rest(ex, b, h) < 0) return -1;
        ex->rep.status = REX_ST_RESTING;
        return REX_ST_RESTING;
    }
    rex_order *o = &ex->orders[h];
    if (o->tif == REX_FOK &&
        !fillable(ex, b, o->side, o->has_price, o->price, o->owner, o->rate))
        return kill(ex, h);
    if (match(ex, b, h) < 0) return -1;
    o = &ex->orders[h];
    if (o->rate == 0) {
        o->status = REX_ST_FILLED;
    } else if (o->kind == REX_LIMIT && o->tif == REX_GTC) {
        if (rest(ex, b, h) < 0) return -1;
        o = &ex->orders[h];
    } else { /* ioc / market remainder */
        o->removed += o->rate;
        o->rate = 0;
        o->status = REX_ST_CANCELLED;
    }
    ex->rep.status = o->status;
    return o->status;
}

/* a block: every leg fills in full now within the limit, in slot order, or nothing happens */
static int block(rex_exchange *ex, int32_t h) {
    int32_t books[REX_MAX_BLOCK_SLOTS];
    rex_order *o = &ex->orders[h];
    int64_t first = o->first_slot, n = o->last_slot - o->first_slot + 1;
    ex->rep.order = h;
    for (int64_t i = 0; i < n; i++) { /* a leg without a book cannot fill: kill, create none */
        books[i] = map_get(&ex->slot_map, first + i);
        if (books[i] < 0) return kill(ex, h);
    }
    int64_t need = o->rate;
    for (int64_t i = 0; i < n; i++)
        if (!fillable(ex, books[i], o->side, o->has_price, o->price, o->owner, need))
            return kill(ex, h);
    for (int64_t i = 0; i < n; i++) {
        o = &ex->orders[h];
        o->rate = need;
        o->filled = 0;
        if (match(ex, books[i], h) < 0) return -1;
    }
    o = &ex->orders[h];
    o->filled = need;
    o->status = REX_ST_FILLED;
    ex->rep.status = REX_ST_FILLED;
    return REX_ST_FILLED;
}

/* ---- validation helpers (SPEC §5) ---------------------------------------------------- */
static int value_fault(const rex_exchange *ex, int has_price, int64_t price, int64_t rate,
                       int flags) {
    if (has_price) {
        if ((flags & REX_PF_PRICE_OOB) || price < ex->min_ticks || price > ex->max_ticks)
            return REX_R_PRICE_OUT_OF_BOUNDS;
        if (flags & REX_PF_PRICE_OFFTICK) return REX_R_OFF_TICK;
    }
    if (rate <= 0) return REX_R_NON_POSITIVE_RATE;
    if (flags & REX_PF_RATE_OFFLOT) return REX_R_OFF_LOT;
    return REX_R_NONE;
}

static int slot_fault(const rex_exchange *ex, int64_t first, int64_t last, int kind, int tif) {
    for (int64_t s = first; s <= last; s++)
        if (rex_phase(ex, s) < 0) return REX_R_UNKNOWN_SLOT;
    int call = 0;
    for (int64_t s = first; s <= last; s++) {
        int p = rex_phase(ex, s);
        if (p == REX_CLOSED) return REX_R_SLOT_CLOSED;
        if (p == REX_PENDING) return REX_R_SLOT_NOT_OPEN;
        call |= p == REX_CALL;
    }
    if (call && (kind == REX_MARKET || tif != REX_GTC || first != last)) return REX_R_AUCTION_PHASE;
    return REX_R_NONE;
}

/* ---- instructions -------------------------------------------------------------------- */
int rex_submit(rex_exchange *ex, int64_t time, int64_t key, int32_t owner, int side,
               int64_t first_slot, int64_t last_slot, int has_price, int64_t price,
               int64_t rate, int kind, int tif, int flags) {
    rep_clear(ex);
    if (ex->oom) return -1;
    if ((side != REX_BUY && side != REX_SELL) || kind < 0 || kind > 1 || tif < 0 || tif > 2 ||
        owner < 0 || last_slot < first_slot || time < ex->now || time > REX_MAX_TIME ||
        (kind == REX_MARKET) != !has_price || last_slot - first_slot >= REX_MAX_BLOCK_SLOTS ||
        rate > REX_MAX_LOTS || rate < -REX_MAX_LOTS)
        return reject(ex, REX_R_BAD_FIELD);
    if (map_get(&ex->key_map, key) >= 0) return reject(ex, REX_R_DUPLICATE_ID);
    int fault = value_fault(ex, has_price, price, rate, flags);
    if (fault) return reject(ex, fault);
    int32_t b = first_slot == last_slot ? map_get(&ex->slot_map, first_slot) : -1;
    if (b < 0 || ex->books[b].phase != REX_CONTINUOUS) {
        fault = slot_fault(ex, first_slot, last_slot, kind, tif);
        if (fault) return reject(ex, fault);
    }
    /* accepted */
    GROW(ex, ex->orders, ex->cap_orders, ex->n_orders + 1, rex_order);
    int32_t h = ex->n_orders;
    if (map_put(ex, &ex->key_map, key, h) < 0) return -1;
    ex->n_orders++;
    ex->now = time;
    rex_order *o = &ex->orders[h];
    o->key = key;
    o->price = has_price ? price : 0;
    o->rate = o->offered = rate;
    o->filled = o->removed = 0;
    o->time = time;
    o->seq = ++ex->seq;
    o->first_slot = first_slot;
    o->last_slot = last_slot;
    o->owner = owner;
    o->prev = o->next = o->level = o->book = -1;
    o->side = (int8_t)side;
    o->kind = (int8_t)kind;
    o->tif = (int8_t)tif;
    o->status = REX_ST_RESTING;
    o->reason = REX_R_NONE;
    o->has_price = (int8_t)has_price;
    if (first_slot != last_slot) return block(ex, h);
    if (b < 0) {
        if (!(kind == REX_LIMIT && tif == REX_GTC)) {
            /* a slot without a book has nothing to trade with, and the order cannot rest */
            ex->rep.order = h;
            if (tif == REX_FOK) return kill(ex, h);
            o->removed += o->rate;
            o->rate = 0;
            o->status = REX_ST_CANCELLED;
            ex->rep.status = REX_ST_CANCELLED;
            return REX_ST_CANCELLED;
        }
        b = book_get(ex, first_slot);
        if (b < 0) return -1;
    }
    return enter(ex, b, h);
}

static int32_t resting_of(const rex_exchange *ex, int64_t key, int32_t owner) {
    int32_t h = map_get(&ex->key_map, key);
    if (h < 0) return -1;
    const rex_order *o = &ex->orders[h];
    if (o->status != REX_ST_RESTING || o->owner != owner || owner < 0) return -1;
    return h;
}

int rex_cancel(rex_exchange *ex, int64_t time, int64_t key, int32_t owner) {
    rep_clear(ex);
    if (ex->oom) return -1;
    if (time < ex->now || time > REX_MAX_TIME) return reject(ex, REX_R_BAD_FIELD);
    int32_t h = resting_of(ex, key, owner);
    if (h < 0) return reject(ex, REX_R_UNKNOWN_ORDER);
    ex->now = time;
    rex_order *o = &ex->orders[h];
    int64_t rate = o->rate;
    unlink_order(ex, h);
    o->removed += rate;
    o->rate = 0;
    o->status = REX_ST_CANCELLED;
    ex->rep.order = h;
    ex->rep.status = REX_ST_CANCELLED;
    return REX_ST_CANCELLED;
}

int rex_modify(rex_exchange *ex, int64_t time, int64_t key, int32_t owner, int has_price,
               int64_t price, int has_rate, int64_t rate, int flags) {
    rep_clear(ex);
    if (ex->oom) return -1;
    if (time < ex->now || time > REX_MAX_TIME || (!has_price && !has_rate) ||
        (has_rate && (rate > REX_MAX_LOTS || rate < -REX_MAX_LOTS)))
        return reject(ex, REX_R_BAD_FIELD);
    int32_t h = resting_of(ex, key, owner);
    if (h < 0) return reject(ex, REX_R_UNKNOWN_ORDER);
    rex_order *o = &ex->orders[h];
    int64_t new_price = has_price ? price : o->price;
    int64_t new_rate = has_rate ? rate : o->rate;
    int fault = value_fault(ex, 1, new_price, new_rate, flags);
    if (fault) return reject(ex, fault);
    ex->now = time;
    ex->rep.order = h;
    int32_t b = o->book;
    if (new_price == o->price && new_rate <= o->rate) { /* keeps priority */
        int64_t diff = o->rate - new_rate;
        o->rate = new_rate;
        o->removed += diff;
        ex->levels[o->level].volume -= diff;
        *vmap_slot(&ex->own_at_level, own_key(o->level, o->owner)) -= diff;
        ex->rep.status = REX_ST_RESTING;
        return REX_ST_RESTING;
    }
    unlink_order(ex, h); /* loses priority: out, then in again as an incoming limit order */
    o = &ex->orders[h];
    if (new_rate < o->rate)
        o->removed += o->rate - new_rate;
    else
        o->offered += new_rate - o->rate;
    o->price = new_price;
    o->rate = new_rate;
    o->time = time;
    o->seq = ++ex->seq;
    return enter(ex, b, h);
}

static int lifecycle_fault(const rex_exchange *ex, int64_t slot, int64_t time) {
    if (time < ex->now || time > REX_MAX_TIME) return REX_R_BAD_FIELD;
    int p = rex_phase(ex, slot);
    if (p < 0) return REX_R_UNKNOWN_SLOT;
    if (p == REX_CLOSED) return REX_R_SLOT_CLOSED;
    return REX_R_NONE;
}

int rex_open_auction(rex_exchange *ex, int64_t slot, int64_t time) {
    rep_clear(ex);
    if (ex->oom) return -1;
    int fault = lifecycle_fault(ex, slot, time);
    if (!fault && rex_phase(ex, slot) == REX_CALL) fault = REX_R_AUCTION_PHASE;
    if (fault) return reject(ex, fault);
    int32_t b = book_get(ex, slot);
    if (b < 0) return -1;
    ex->now = time;
    ex->books[b].phase = REX_CALL;
    return REX_ST_NONE;
}

int rex_open_continuous(rex_exchange *ex, int64_t slot, int64_t time) {
    rep_clear(ex);
    if (ex->oom) return -1;
    int fault = lifecycle_fault(ex, slot, time);
    if (!fault && rex_phase(ex, slot) != REX_PENDING) fault = REX_R_AUCTION_PHASE;
    if (fault) return reject(ex, fault);
    int32_t b = book_get(ex, slot);
    if (b < 0) return -1;
    ex->now = time;
    ex->books[b].phase = REX_CONTINUOUS;
    return REX_ST_NONE;
}

typedef struct {
    int64_t seq;
    int32_t h;
} seq_handle;

static int cmp_seq(const void *a, const void *b) {
    int64_t x = ((const seq_handle *)a)->seq, y = ((const seq_handle *)b)->seq;
    return (x > y) - (x < y);
}

int rex_close(rex_exchange *ex, int64_t slot, int64_t time) {
    rep_clear(ex);
    if (ex->oom) return -1;
    int fault = lifecycle_fault(ex, slot, time);
    if (fault) return reject(ex, fault);
    int32_t b = book_get(ex, slot);
    if (b < 0) return -1;
    ex->now = time;
    rex_report *r = &ex->rep;
    rex_book *bk = &ex->books[b];
    for (int side = 0; side < 2; side++) {
        rex_side *s = side == 0 ? &bk->bids : &bk->asks;
        for (int32_t i = 0; i < s->n; i++) {
            for (int32_t q = ex->levels[s->lv[i]].head; q >= 0; q = ex->orders[q].next) {
                GROW(ex, r->expired, r->cap_expired, r->n_expired + 1, int32_t);
                r->expired[r->n_expired++] = q;
                *vmap_slot(&ex->own_at_level, own_key(s->lv[i], ex->orders[q].owner)) -=
                    ex->orders[q].rate;
            }
            level_free(ex, s->lv[i]);
        }
        s->n = 0;
    }
    for (int32_t i = 0; i < r->n_expired; i++) {
        rex_order *o = &ex->orders[r->expired[i]];
        o->removed += o->rate;
        o->rate = 0;
        o->status = REX_ST_EXPIRED;
        o->level = -1;
        o->prev = o->next = -1;
    }
    if (r->n_expired > 1) { /* expiry order: time priority (seq), as the reference */
        seq_handle *tmp = (seq_handle *)malloc((size_t)r->n_expired * sizeof(seq_handle));
        if (!tmp) { ex->oom = 1; return -1; }
        for (int32_t i = 0; i < r->n_expired; i++) {
            tmp[i].h = r->expired[i];
            tmp[i].seq = ex->orders[r->expired[i]].seq;
        }
        qsort(tmp, (size_t)r->n_expired, sizeof(seq_handle), cmp_seq);
        for (int32_t i = 0; i < r->n_expired; i++) r->expired[i] = tmp[i].h;
        free(tmp);
    }
    bk->phase = REX_CLOSED;
    return REX_ST_NONE;
}

int rex_forget(rex_exchange *ex, int64_t slot) {
    int32_t b = map_get(&ex->slot_map, slot);
    if (b < 0 || ex->books[b].phase != REX_CLOSED) return 1;
    rex_book *bk = &ex->books[b];
    bk->n_own = 0;
    if (bk->own_ix) memset(bk->own_ix, 0, (size_t)bk->cap_ix * sizeof(int32_t));
    bk->last_price = bk->volume = bk->n_trades = bk->high = bk->low = 0;
    bk->turnover = 0;
    return 0;
}

/* ---- the opening (call) auction (SPEC §6) -------------------------------------------- */
static int32_t first_live(const rex_exchange *ex, const rex_side *s) {
    return s->n ? ex->levels[s->lv[s->n - 1]].head : -1;
}

/* remove a just-filled order from the front of its level (and the level if empty) */
static void pop_filled(rex_exchange *ex, int32_t h) {
    ex->orders[h].status = REX_ST_FILLED;
    unlink_order(ex, h);
}

static rex_i128 abs128(rex_i128 x) { return x < 0 ? -x : x; }

int rex_uncross(rex_exchange *ex, int64_t slot, int64_t time, int ref_mode, int64_t ref_num,
                int64_t ref_den) {
    rep_clear(ex);
    if (ex->oom) return -1;
    if (ref_mode < 0) return reject(ex, REX_R_BAD_FIELD); /* a reference that is not a number */
    int fault = lifecycle_fault(ex, slot, time);
    if (!fault && rex_phase(ex, slot) != REX_CALL) fault = REX_R_AUCTION_PHASE;
    if (fault) return reject(ex, fault);
    ex->now = time;
    int32_t b = map_get(&ex->slot_map, slot);
    rex_book *bk = &ex->books[b];
    int32_t nb = bk->bids.n, na = bk->asks.n, n = 0;
    int64_t price = 0, volume = 0;
    if (nb + na) {
        int64_t *prices = (int64_t *)malloc((size_t)(nb + na) * 3 * sizeof(int64_t));
        if (!prices) { ex->oom = 1; return -1; }
        int64_t *bidv = prices + (nb + na), *askv = bidv + (nb + na);
        /* merge bids (ascending) and asks (descending: walk backwards) into ascending prices */
        int32_t i = 0, j = na - 1;
        while (i < nb || j >= 0) {
            int64_t pb = i < nb ? ex->levels[bk->bids.lv[i]].price : INT64_MAX;
            int64_t pa = j >= 0 ? ex->levels[bk->asks.lv[j]].price : INT64_MAX;
            int64_t p = pb < pa ? pb : pa;
            prices[n] = p;
            bidv[n] = askv[n] = 0;
            if (pb == p) bidv[n] = ex->levels[bk->bids.lv[i++]].volume;
            if (pa == p) askv[n] = ex->levels[bk->asks.lv[j--]].volume;
            n++;
        }
        /* cum asks at or below p (into askv), cum bids at or above p (into bidv) */
        for (int32_t k = 1; k < n; k++) askv[k] += askv[k - 1];
        for (int32_t k = n - 2; k >= 0; k--) bidv[k] += bidv[k + 1];
        int64_t best = 0;
        for (int32_t k = 0; k < n; k++) {
            int64_t v = bidv[k] < askv[k] ? bidv[k] : askv[k];
            if (v > best) best = v;
        }
        if (best > 0) {
            int64_t least = INT64_MAX;
            for (int32_t k = 0; k < n; k++) {
                int64_t v = bidv[k] < askv[k] ? bidv[k] : askv[k];
                int64_t sur = bidv[k] - askv[k];
                if (sur < 0) sur = -sur;
                if (v == best && sur < least) least = sur;
            }
            int all_pos = 1, all_neg = 1, firstc = -1, lastc = -1;
            for (int32_t k = 0; k < n; k++) {
                int64_t v = bidv[k] < askv[k] ? bidv[k] : askv[k];
                int64_t s = bidv[k] - askv[k];
                if (v != best || (s < 0 ? -s : s) != least) continue;
                if (firstc < 0) firstc = k;
                lastc = k;
                all_pos &= s > 0;
                all_neg &= s < 0;
            }
            int32_t pick = -1;
            if (ref_mode == 2) {
                for (int32_t k = 0; k < n; k++)
                    if (prices[k] == ref_num) pick = k;
            } else if (all_pos) {
                pick = lastc;
            } else if (all_neg) {
                pick = firstc;
            } else if (ref_mode == 0) {
                pick = lastc;
            } else {
                rex_i128 bestd = 0;
                for (int32_t k = 0; k < n; k++) {
                    int64_t v = bidv[k] < askv[k] ? bidv[k] : askv[k];
                    int64_t s = bidv[k] - askv[k];
                    if (v != best || (s < 0 ? -s : s) != least) continue;
                    rex_i128 d = abs128((rex_i128)prices[k] * ref_den - ref_num);
                    /* ascending prices: an equal distance later is a higher price, it wins */
                    if (pick < 0 || d <= bestd) {
                        pick = k;
                        bestd = d;
                    }
                }
            }
            if (pick >= 0) {
                price = prices[pick];
                volume = bidv[pick] < askv[pick] ? bidv[pick] : askv[pick];
            }
        }
        free(prices);
    }
    int64_t left = volume;
    int32_t bid = left ? first_live(ex, &ex->books[b].bids) : -1;
    int32_t ask = left ? first_live(ex, &ex->books[b].asks) : -1;
    while (left && bid >= 0 && ask >= 0) {
        rex_order *ob = &ex->orders[bid], *oa = &ex->orders[ask];
        int64_t fill = ob->rate < oa->rate ? ob->rate : oa->rate;
        ob->rate -= fill;
        ob->filled += fill;
        ex->levels[ob->level].volume -= fill;
        *vmap_slot(&ex->own_at_level, own_key(ob->level, ob->owner)) -= fill;
        oa->rate -= fill;
        oa->filled += fill;
        ex->levels[oa->level].volume -= fill;
        *vmap_slot(&ex->own_at_level, own_key(oa->level, oa->owner)) -= fill;
        if (record_trade(ex, b, time, price, fill, bid, ask, REX_AGG_AUCTION) < 0) return -1;
        left -= fill;
        if (ex->orders[bid].rate == 0) {
            pop_filled(ex, bid);
            bid = left ? first_live(ex, &ex->books[b].bids) : -1;
        }
        if (ex->orders[ask].rate == 0) {
            pop_filled(ex, ask);
            ask = left ? first_live(ex, &ex->books[b].asks) : -1;
        }
    }
    ex->books[b].phase = REX_CONTINUOUS;
    return REX_ST_NONE;
}

/* ---- bulk ---------------------------------------------------------------------------- */
int64_t rex_run_many(rex_exchange *ex, int64_t n, const int8_t *op, const int64_t *time,
                     const int64_t *key, const int32_t *owner, const int8_t *side,
                     const int64_t *slot, const int64_t *price, const int64_t *rate,
                     const int8_t *kind, const int8_t *tif, int8_t *status, int8_t *reason) {
    int64_t before = ex->n_trades;
    for (int64_t i = 0; i < n; i++) {
        int st;
        if (op[i] == 1)
            st = rex_cancel(ex, time[i], key[i], owner[i]);
        else
            st = rex_submit(ex, time[i], key[i], owner[i], side[i], slot[i], slot[i],
                            kind[i] != REX_MARKET, price[i], rate[i], kind[i], tif[i], 0);
        if (st < 0) return -1;
        if (status) status[i] = (int8_t)st;
        if (reason) reason[i] = (int8_t)ex->rep.reason;
    }
    return ex->n_trades - before;
}

/* ---- consistency check (tests) ------------------------------------------------------- */
int rex_book_check(const rex_exchange *ex, int32_t b) {
    const rex_book *bk = &ex->books[b];
    for (int side = 0; side < 2; side++) {
        const rex_side *s = side == 0 ? &bk->bids : &bk->asks;
        for (int32_t i = 0; i < s->n; i++) {
            const rex_level *L = &ex->levels[s->lv[i]];
            if (i && (side == 0 ? ex->levels[s->lv[i - 1]].price >= L->price
                                : ex->levels[s->lv[i - 1]].price <= L->price))
                return 1; /* levels out of order */
            int64_t vol = 0, last_seq = INT64_MIN;
            int32_t prev = -1;
            for (int32_t q = L->head; q >= 0; q = ex->orders[q].next) {
                const rex_order *o = &ex->orders[q];
                if (o->prev != prev || o->level != s->lv[i] || o->book != b) return 2;
                if (o->status != REX_ST_RESTING || o->rate <= 0 || o->price != L->price) return 3;
                if (o->side != (side == 0 ? REX_BUY : REX_SELL)) return 3;
                if (o->seq <= last_seq) return 4; /* time priority broken */
                last_seq = o->seq;
                vol += o->rate;
                prev = q;
            }
            if (L->tail != prev || vol != L->volume || vol <= 0) return 5;
            for (int32_t q = L->head; q >= 0; q = ex->orders[q].next) { /* tests: O(k^2) */
                int64_t own = 0;
                for (int32_t p = L->head; p >= 0; p = ex->orders[p].next)
                    if (ex->orders[p].owner == ex->orders[q].owner) own += ex->orders[p].rate;
                if (own != vmap_get(&ex->own_at_level, own_key(s->lv[i], ex->orders[q].owner)))
                    return 7; /* the owner-volume index disagrees with the queue */
            }
        }
    }
    if (bk->phase == REX_CONTINUOUS && bk->bids.n && bk->asks.n &&
        ex->levels[bk->bids.lv[bk->bids.n - 1]].price >=
            ex->levels[bk->asks.lv[bk->asks.n - 1]].price)
        return 6; /* crossed */
    return 0;
}

/* ---- serialisation ------------------------------------------------------------------- */
typedef struct {
    uint8_t *p;
    size_t n, cap;
    int fail;
} wbuf;

static void put(wbuf *w, const void *src, size_t n) {
    if (w->fail || !n) return;
    if (w->n + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->n + n) cap *= 2;
        uint8_t *p = (uint8_t *)realloc(w->p, cap);
        if (!p) {
            w->fail = 1;
            return;
        }
        w->p = p;
        w->cap = cap;
    }
    memcpy(w->p + w->n, src, n);
    w->n += n;
}

typedef struct {
    int64_t min_ticks, max_ticks, auto_open, n_slots, now, seq, n_trades;
    int32_t n_orders, n_levels, free_level, n_books;
} dump_header;

typedef struct {
    int64_t slot, last_price, volume, n_trades, high, low;
    rex_i128 turnover;
    int32_t phase, n_bids, n_asks, n_own, cap_ix, pad;
} dump_book;

int rex_dump(const rex_exchange *ex, uint8_t **out, size_t *n) {
    wbuf w = {0};
    dump_header hd = {ex->min_ticks, ex->max_ticks, ex->auto_open, ex->n_slots, ex->now,
                      ex->seq, ex->n_trades, ex->n_orders, ex->n_levels,
                      ex->free_level, ex->n_books};
    put(&w, &hd, sizeof hd);
    put(&w, ex->orders, (size_t)ex->n_orders * sizeof(rex_order));
    put(&w, ex->levels, (size_t)ex->n_levels * sizeof(rex_level));
    for (int32_t b = 0; b < ex->n_books; b++) {
        const rex_book *bk = &ex->books[b];
        dump_book db = {bk->slot, bk->last_price, bk->volume, bk->n_trades, bk->high, bk->low,
                        bk->turnover, bk->phase, bk->bids.n, bk->asks.n, bk->n_own,
                        bk->cap_ix, 0};
        put(&w, &db, sizeof db);
        put(&w, bk->bids.lv, (size_t)bk->bids.n * sizeof(int32_t));
        put(&w, bk->asks.lv, (size_t)bk->asks.n * sizeof(int32_t));
        put(&w, bk->own, (size_t)bk->n_own * sizeof(int32_t));
        put(&w, bk->pos, (size_t)bk->n_own * sizeof(int64_t));
        put(&w, bk->cash, (size_t)bk->n_own * sizeof(rex_i128));
        put(&w, bk->own_ix, (size_t)bk->cap_ix * sizeof(int32_t));
    }
    if (w.fail) {
        free(w.p);
        return -1;
    }
    *out = w.p;
    *n = w.n;
    return 0;
}

typedef struct {
    const uint8_t *p;
    size_t n, at;
} rbuf;

static int take(rbuf *r, void *dst, size_t n) {
    if (n > r->n - r->at) return -1;
    if (n) memcpy(dst, r->p + r->at, n);
    r->at += n;
    return 0;
}

/* an array of `count` items read into a fresh allocation (capacity at least 1) */
static int take_array(rbuf *r, void **dst, int64_t count, size_t item) {
    if (count < 0 || (uint64_t)count > (r->n - r->at) / item) return -1;
    *dst = malloc((size_t)(count ? count : 1) * item);
    if (!*dst) return -1;
    return take(r, *dst, (size_t)count * item);
}

rex_exchange *rex_load(const uint8_t *buf, size_t n) {
    rbuf r = {buf, n, 0};
    dump_header hd;
    if (take(&r, &hd, sizeof hd) < 0 || hd.n_orders < 0 || hd.n_levels < 0 || hd.n_books < 0)
        return NULL;
    rex_exchange *ex = rex_new(hd.min_ticks, hd.max_ticks, (int)hd.auto_open, hd.n_slots);
    if (!ex) return NULL;
    ex->now = hd.now;
    ex->seq = hd.seq;
    ex->n_trades = hd.n_trades;
    if (take_array(&r, (void **)&ex->orders, hd.n_orders, sizeof(rex_order)) < 0) goto fail;
    ex->cap_orders = hd.n_orders ? hd.n_orders : 1;
    ex->n_orders = hd.n_orders;
    if (take_array(&r, (void **)&ex->levels, hd.n_levels, sizeof(rex_level)) < 0) goto fail;
    ex->cap_levels = hd.n_levels ? hd.n_levels : 1;
    ex->n_levels = hd.n_levels;
    ex->free_level = hd.free_level;
    ex->books = (rex_book *)calloc((size_t)(hd.n_books ? hd.n_books : 1), sizeof(rex_book));
    if (!ex->books) goto fail;
    ex->cap_books = hd.n_books ? hd.n_books : 1;
    for (int32_t b = 0; b < hd.n_books; b++) {
        dump_book db;
        rex_book *bk = &ex->books[b];
        ex->n_books = b + 1; /* what is allocated so far gets freed on failure */
        if (take(&r, &db, sizeof db) < 0) goto fail;
        bk->slot = db.slot;
        bk->phase = db.phase;
        bk->last_price = db.last_price;
        bk->volume = db.volume;
        bk->n_trades = db.n_trades;
        bk->high = db.high;
        bk->low = db.low;
        bk->turnover = db.turnover;
        if (take_array(&r, (void **)&bk->bids.lv, db.n_bids, sizeof(int32_t)) < 0) goto fail;
        bk->bids.n = db.n_bids;
        bk->bids.cap = db.n_bids ? db.n_bids : 1;
        if (take_array(&r, (void **)&bk->asks.lv, db.n_asks, sizeof(int32_t)) < 0) goto fail;
        bk->asks.n = db.n_asks;
        bk->asks.cap = db.n_asks ? db.n_asks : 1;
        if (take_array(&r, (void **)&bk->own, db.n_own, sizeof(int32_t)) < 0) goto fail;
        if (take_array(&r, (void **)&bk->pos, db.n_own, sizeof(int64_t)) < 0) goto fail;
        if (take_array(&r, (void **)&bk->cash, db.n_own, sizeof(rex_i128)) < 0) goto fail;
        bk->n_own = db.n_own;
        bk->cap_own = db.n_own ? db.n_own : 1;
        if (take_array(&r, (void **)&bk->own_ix, db.cap_ix, sizeof(int32_t)) < 0) goto fail;
        bk->cap_ix = db.cap_ix;
        if (map_put(ex, &ex->slot_map, bk->slot, b) < 0) goto fail;
    }
    ex->n_books = hd.n_books;
    for (int32_t h = 0; h < ex->n_orders; h++) {
        if (map_put(ex, &ex->key_map, ex->orders[h].key, h) < 0) goto fail;
        const rex_order *o = &ex->orders[h];
        if (o->status == REX_ST_RESTING && o->level >= 0 &&
            vmap_add(ex, o->level, o->owner, o->rate) < 0)
            goto fail;
    }
    if (r.at != r.n) goto fail;
    return ex;
fail:
    rex_free(ex);
    return NULL;
}
