"""Benchmarks: each prints our figure, a baseline measured in the same run,
and their ratio. Results also go to var/bench-results.json.

B1  a member's room list through the ORM with record rules and field access,
    against hand-written SQL returning the same rows.

Runs on the database of `make setup` (LIEYE_DB_NAME, default lieye). Later
issues add the data generator and the P1–P7 benchmarks of the performance
goals.
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROOM_FIELDS = ['code', 'floor', 'unit_number', 'building_area', 'list_total', 'state']


def timed(function, repeat):
    "Return the median seconds of repeat calls of function, after a warm-up"
    function()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def bench_room_list(database, repeat=30):
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool(database)
    pool.init()
    with Transaction().start(database, 0, readonly=True):
        User = pool.get('res.user')
        (user,) = User.search([('login', '=', 'secretary1')])
    with Transaction().start(
        database, user.id, readonly=True, context={'_check_access': True}
    ) as transaction:
        Room = pool.get('lieye.room')
        projects = User.get_lieye_projects()

        def orm():
            Room.search_read([], fields_names=ROOM_FIELDS)

        room = Room.__table__()
        cursor = transaction.connection.cursor()

        def sql():
            cursor.execute(
                *room.select(
                    room.id,
                    *(getattr(room, f) for f in ROOM_FIELDS),
                    where=room.project.in_(list(projects)),
                    order_by=[room.building, room.floor, room.unit_number, room.id],
                )
            )
            cursor.fetchall()

        rows = len(Room.search([]))
        ours, baseline = timed(orm, repeat), timed(sql, repeat)
    return {
        'name': 'B1 room list with record rules vs raw SQL',
        'rows': rows,
        'ours_ms': ours * 1000,
        'baseline_ms': baseline * 1000,
        'ratio': ours / baseline,
    }


def main():
    database = os.environ.get('LIEYE_DB_NAME', 'lieye')
    results = [bench_room_list(database)]
    print(f'{"benchmark":<45} {"rows":>6} {"ours ms":>9} {"base ms":>9} {"ratio":>7}')
    for r in results:
        print(
            f'{r["name"]:<45} {r["rows"]:>6} {r["ours_ms"]:>9.2f} '
            f'{r["baseline_ms"]:>9.2f} {r["ratio"]:>6.1f}x'
        )
    out = ROOT / 'var' / 'bench-results.json'
    out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
