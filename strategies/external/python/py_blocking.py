"""py-blocking: one task after another on one connection per backend,
blocking sockets: db.write(); print('Finished')."""

import concbench_ext as cb


def run(proto):
    conns = cb.SyncConns(proto.job)
    proto.ready()
    for ids in proto.job.passes():
        for i in ids:
            cb.run_sync_task(proto, i, conns)
    conns.close()


if __name__ == "__main__":
    cb.main(run)
