// Who may change things: root, the operator uid, members of the admin group (primary or
// supplementary, from the group database); everyone else reads. Uses the machine's own
// group database: "nogroup"/"nobody" and "root" exist on every Debian system.
#include <QTest>

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helper/platform/accesspolicy.h"

using namespace calnet;
using namespace calnet::helper;

class tst_AccessPolicy : public QObject {
    Q_OBJECT

private slots:
    void rootIsAdmin() {
        AccessPolicy p;
        QVERIFY(p.roleFor({1, 0, 0}) == ipc::Role::Admin);
    }
    void othersAreReaders() {
        AccessPolicy p; // no "calnet" group on this machine, no operator
        QVERIFY(p.roleFor({1, 65534, 65534}) == ipc::Role::Reader);
        QVERIFY(p.roleFor({1, 1000, 1000}) == ipc::Role::Reader);
    }
    void operatorUidIsAdmin() {
        AccessPolicy p(uid_t(4242));
        QVERIFY(p.roleFor({1, 4242, 4242}) == ipc::Role::Admin);
        QVERIFY(p.roleFor({1, 4243, 4242}) == ipc::Role::Reader);
    }
    void primaryGroupMakesAdmin() {
        const group* g = ::getgrnam("nogroup");
        QVERIFY(g);
        AccessPolicy p(std::nullopt, "nogroup");
        QVERIFY(p.roleFor({1, 65534, g->gr_gid}) == ipc::Role::Admin);
        QVERIFY(p.roleFor({1, 65534, 12345}) == ipc::Role::Admin); // nobody's passwd gid
    }
    void supplementaryGroupMakesAdmin() {
        // root is a member of group "root" through its passwd entry; a uid that belongs to no
        // listed group is not.
        AccessPolicy p(std::nullopt, "root");
        QVERIFY(p.roleFor({1, 0, 99999}) == ipc::Role::Admin);
        QVERIFY(p.roleFor({1, 65534, 65534}) == ipc::Role::Reader);
        AccessPolicy missing(std::nullopt, "no-such-group-here");
        QVERIFY(missing.roleFor({1, 65534, 65534}) == ipc::Role::Reader);
    }
    void allows() {
        QVERIFY(AccessPolicy::allows(ipc::Role::Admin, ipc::Role::Admin));
        QVERIFY(AccessPolicy::allows(ipc::Role::Admin, ipc::Role::Reader));
        QVERIFY(AccessPolicy::allows(ipc::Role::Reader, ipc::Role::Reader));
        QVERIFY(!AccessPolicy::allows(ipc::Role::Reader, ipc::Role::Admin));
    }
    void peerCredentialsFromKernel() {
        int fds[2];
        QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
        const auto cred = peerCredentials(fds[0]);
        QVERIFY(cred);
        QCOMPARE(cred->uid, ::getuid());
        QCOMPARE(cred->gid, ::getgid());
        QCOMPARE(cred->pid, ::getpid());
        ::close(fds[0]);
        ::close(fds[1]);
        QVERIFY(!peerCredentials(-1));
    }
};

QTEST_APPLESS_MAIN(tst_AccessPolicy)
#include "tst_accesspolicy.moc"
