/* Rex exchange core in plain C: integer ticks/lots/seconds, no Python anywhere.
 *
 * The exchange holds one book per delivery slot (price levels with FIFO queues of orders),
 * every accepted order (addressed by a dense handle), positions and trade notional per
 * owner and slot. Order ids and owners are interned to integers by the caller: an order id is
 * a 64-bit key (the core maps key -> handle), an owner a small non-negative int.
 *
 * Every instruction fills the exchange's report buffer (`ex->rep`): a status, a reason, the
 * order handle, the trades, the self-trade cancels and the expired orders. Nothing is ever
 * sent anywhere (STYLE practice 2). Validation follows SPEC §5 for the numeric checks; type
 * checks of Python values happen at the boundary, which passes PF_* flags for values that are
 * not plain integers (fractions, values beyond int64).
 */
#ifndef REX_CORE_H
#define REX_CORE_H

#include <stddef.h>
#include <stdint.h>

/* limits (mirrored from rex_env/exchange/orders.py) */
#define REX_MAX_BLOCK_SLOTS 1024
#define REX_MAX_SLOT 2147483647LL
#define REX_MAX_LOTS 1000000000000LL
#define REX_MAX_TIME 4611686018427387904LL /* 2**62 */

enum { REX_BUY = 1, REX_SELL = -1 };
enum { REX_LIMIT = 0, REX_MARKET = 1 };
enum { REX_GTC = 0, REX_IOC = 1, REX_FOK = 2 };
enum { REX_PENDING = 0, REX_CALL = 1, REX_CONTINUOUS = 2, REX_CLOSED = 3 };
enum {
    REX_ST_NONE = 0, /* lifecycle instruction accepted */
    REX_ST_RESTING, REX_ST_FILLED, REX_ST_CANCELLED, REX_ST_EXPIRED, REX_ST_KILLED,
    REX_ST_REJECTED
};
enum {
    REX_R_NONE = 0,
    REX_R_BAD_FIELD, REX_R_DUPLICATE_ID, REX_R_PRICE_OUT_OF_BOUNDS, REX_R_OFF_TICK,
    REX_R_NON_POSITIVE_RATE, REX_R_OFF_LOT, REX_R_UNKNOWN_SLOT, REX_R_SLOT_CLOSED,
    REX_R_SLOT_NOT_OPEN, REX_R_AUCTION_PHASE, REX_R_UNKNOWN_ORDER, REX_R_SELF_TRADE
};
/* flags for values the boundary could not pass as plain in-range integers */
enum {
    REX_PF_PRICE_OOB = 1,     /* price outside the bounds (decided exactly by the caller) */
    REX_PF_PRICE_OFFTICK = 2, /* price not a whole number of ticks (but within bounds) */
    REX_PF_RATE_OFFLOT = 4,   /* rate positive but not a whole number of lots */
};
enum { REX_AGG_BUY = 0, REX_AGG_SELL = 1, REX_AGG_AUCTION = 2 };

typedef struct {
    int64_t key; /* interned order id */
    int64_t price, rate, filled, offered, removed, time, seq;
    int64_t first_slot, last_slot;
    int32_t owner;
    int32_t prev, next; /* FIFO neighbours in the level (-1: none) */
    int32_t level;      /* level pool index while resting, else -1 */
    int32_t book;       /* book index of first_slot while resting */
    int8_t side, kind, tif, status, reason, has_price;
} rex_order;

typedef struct {
    int64_t price, volume; /* volume: sum of the open rates queued here */
    int32_t head, tail;    /* order handles, time priority from head */
    int32_t next_free;
} rex_level;

typedef struct {
    int32_t *lv; /* level pool indices, worst first, best last */
    int32_t n, cap;
} rex_side;

typedef __int128 rex_i128;

typedef struct {
    int64_t slot;
    int32_t phase;
    rex_side bids, asks; /* bids by price ascending, asks by price descending */
    /* accounting per owner, in order of first trade (buyer before seller) */
    int32_t *own;     /* owner ids */
    int64_t *pos;     /* lots, bought > 0 */
    rex_i128 *cash;   /* tick*lots, received > 0 */
    int32_t n_own, cap_own;
    int32_t *own_ix;  /* owner id -> index in own[] + 1 (0: none) */
    int32_t cap_ix;
    /* statistics */
    int64_t last_price, volume, n_trades, high, low;
    rex_i128 turnover;
} rex_book;

typedef struct {
    int64_t trade_id, time, slot, price, rate;
    int32_t buy, sell; /* order handles */
    int32_t aggressor;
} rex_trade;

typedef struct {
    int32_t status, reason, order;
    rex_trade *trades;
    int32_t n_trades, cap_trades;
    int32_t *stp;
    int32_t n_stp, cap_stp;
    int32_t *expired;
    int32_t n_expired, cap_expired;
} rex_report;

typedef struct {
    int64_t *keys;
    int32_t *vals;
    int64_t cap, n; /* cap is a power of two */
} rex_map;

typedef struct {
    int64_t *keys;
    int64_t *vals;
    int64_t cap, n;
} rex_vmap; /* (level, owner) -> that owner's open rate queued at that level */

typedef struct rex_exchange {
    int64_t min_ticks, max_ticks; /* inclusive integer bounds */
    int auto_open;
    int64_t n_slots; /* -1: unbounded */
    int64_t now, seq, n_trades;
    rex_order *orders;
    int32_t n_orders, cap_orders;
    rex_level *levels;
    int32_t n_levels, cap_levels, free_level;
    rex_book *books;
    int32_t n_books, cap_books;
    rex_map slot_map, key_map;
    rex_vmap own_at_level; /* lets a fok/block check skip the owner's own orders in O(1) */
    rex_report rep;
    int oom; /* set when an allocation failed: the exchange must not be used further */
} rex_exchange;

rex_exchange *rex_new(int64_t min_ticks, int64_t max_ticks, int auto_open, int64_t n_slots);
void rex_free(rex_exchange *ex);
int rex_reset(rex_exchange *ex);

/* instructions: each fills ex->rep and returns its status (REX_ST_*), or -1 on out-of-memory */
int rex_submit(rex_exchange *ex, int64_t time, int64_t key, int32_t owner, int side,
               int64_t first_slot, int64_t last_slot, int has_price, int64_t price,
               int64_t rate, int kind, int tif, int flags);
int rex_cancel(rex_exchange *ex, int64_t time, int64_t key, int32_t owner);
int rex_modify(rex_exchange *ex, int64_t time, int64_t key, int32_t owner, int has_price,
               int64_t price, int has_rate, int64_t rate, int flags);
int rex_open_auction(rex_exchange *ex, int64_t slot, int64_t time);
int rex_open_continuous(rex_exchange *ex, int64_t slot, int64_t time);
/* ref_mode 0: no reference (highest); 1: reference ref_num/ref_den (den > 0);
 * 2: clearing price forced to ref_num (chosen by the caller); -1: the reference is not a
 * number (bad_field, checked before anything else) */
int rex_uncross(rex_exchange *ex, int64_t slot, int64_t time, int ref_mode, int64_t ref_num,
                int64_t ref_den);
int rex_close(rex_exchange *ex, int64_t slot, int64_t time);
int rex_forget(rex_exchange *ex, int64_t slot); /* 0 ok, 1 not closed */

/* a bulk stream processed inside C: op 0 submit, 1 cancel; kind REX_MARKET carries no price.
 * status/reason (may be NULL) get one entry per message; returns the trades made or -1. */
int64_t rex_run_many(rex_exchange *ex, int64_t n, const int8_t *op, const int64_t *time,
                     const int64_t *key, const int32_t *owner, const int8_t *side,
                     const int64_t *slot, const int64_t *price, const int64_t *rate,
                     const int8_t *kind, const int8_t *tif, int8_t *status, int8_t *reason);

/* the whole state as bytes (same build only: pickling and deep copies); 0 ok, -1 no memory */
int rex_dump(const rex_exchange *ex, uint8_t **out, size_t *n);
rex_exchange *rex_load(const uint8_t *buf, size_t n); /* NULL: malformed or no memory */

/* queries */
int rex_phase(const rex_exchange *ex, int64_t slot); /* -1: unknown slot */
int32_t rex_book_index(const rex_exchange *ex, int64_t slot); /* -1: no book */
int32_t rex_order_handle(const rex_exchange *ex, int64_t key); /* -1: never accepted */
int rex_book_check(const rex_exchange *ex, int32_t b); /* 0: consistent, else a fault code */

/* LOB-3D depth aggregation (rex_lob3d.c): top-k levels of one side of a book, best first;
 * returns the number of levels written */
int32_t rex_depth(const rex_exchange *ex, int32_t b, int side, int32_t k, double *price,
                  double *depth);

/* 128-bit sums as (signed high, unsigned low) 64-bit halves, for bindings without int128 */
static inline void rex_turnover(const rex_exchange *ex, int32_t b, int64_t *hi, uint64_t *lo) {
    rex_i128 x = ex->books[b].turnover;
    *hi = (int64_t)(x >> 64);
    *lo = (uint64_t)x;
}

static inline void rex_cash(const rex_exchange *ex, int32_t b, int32_t i, int64_t *hi,
                            uint64_t *lo) {
    rex_i128 x = ex->books[b].cash[i];
    *hi = (int64_t)(x >> 64);
    *lo = (uint64_t)x;
}

#endif
