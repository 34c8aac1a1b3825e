<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>ProfileModel</name>
    <message>
        <source>Addresses: %1</source>
        <translation>Adressen: %1</translation>
    </message>
    <message numerus="yes">
        <source>%n peer(s)</source>
        <translation>
            <numerusform>%n Peer</numerusform>
            <numerusform>%n Peers</numerusform>
        </translation>
    </message>
    <message>
        <source>Routes all traffic</source>
        <translation>Leitet den gesamten Datenverkehr durch den Tunnel</translation>
    </message>
</context>
<context>
    <name>TrayState</name>
    <message>
        <source>Calnet service not running</source>
        <translation>Calnet-Dienst läuft nicht</translation>
    </message>
    <message>
        <source>Disconnected</source>
        <translation>Getrennt</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Verbindung wird hergestellt…</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>Verbunden</translation>
    </message>
    <message>
        <source>Connected, some peers not responding</source>
        <translation>Verbunden, einige Peers antworten nicht</translation>
    </message>
    <message>
        <source>Connection failed</source>
        <translation>Verbindung fehlgeschlagen</translation>
    </message>
    <message>
        <source>Profile: %1</source>
        <translation>Profil: %1</translation>
    </message>
    <message>
        <source>This device: %1</source>
        <translation>Dieses Gerät: %1</translation>
    </message>
    <message numerus="yes">
        <source>%n peer(s), %1 not responding</source>
        <translation>
            <numerusform>%n Peer, davon %1 ohne Antwort</numerusform>
            <numerusform>%n Peers, davon %1 ohne Antwort</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n peer(s)</source>
        <translation>
            <numerusform>%n Peer</numerusform>
            <numerusform>%n Peers</numerusform>
        </translation>
    </message>
    <message>
        <source>Retrying to reach calnetd…</source>
        <translation>Erneuter Verbindungsversuch zu calnetd…</translation>
    </message>
    <message numerus="yes">
        <source>%n peer(s) through a relay</source>
        <translation>
            <numerusform>%n Peer über ein Relay</numerusform>
            <numerusform>%n Peers über ein Relay</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>calnet::app::Application</name>
    <message>
        <source>Calnet connected</source>
        <translation>Calnet verbunden</translation>
    </message>
    <message>
        <source>Connected to %1.</source>
        <translation>Mit %1 verbunden.</translation>
    </message>
    <message>
        <source>Calnet disconnected</source>
        <translation>Calnet getrennt</translation>
    </message>
    <message>
        <source>Disconnected from %1.</source>
        <translation>Von %1 getrennt.</translation>
    </message>
    <message>
        <source>Calnet connection failed</source>
        <translation>Calnet-Verbindung fehlgeschlagen</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>About Calnet</source>
        <translation>Über Calnet</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Calnet %1&lt;/h3&gt;&lt;p&gt;A self-hostable mesh VPN built on WireGuard.&lt;/p&gt;&lt;p&gt;Service socket: %2&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Calnet %1&lt;/h3&gt;&lt;p&gt;Ein selbst hostbares Mesh-VPN auf Basis von WireGuard.&lt;/p&gt;&lt;p&gt;Dienst-Socket: %2&lt;/p&gt;</translation>
    </message>
</context>
<context>
    <name>calnet::app::HelperSession</name>
    <message>
        <source>The Calnet service is not running.</source>
        <translation>Der Calnet-Dienst läuft nicht.</translation>
    </message>
    <message>
        <source>Only members of the “calnet” group may change the connection. Ask an administrator to add your account to it (usermod -aG calnet %1), then sign in again.</source>
        <translation>Nur Mitglieder der Gruppe „calnet“ dürfen die Verbindung ändern. Bitten Sie eine Administratorin oder einen Administrator, Ihr Konto aufzunehmen (usermod -aG calnet %1), und melden Sie sich dann neu an.</translation>
    </message>
    <message>
        <source>Could not connect</source>
        <translation>Verbindung fehlgeschlagen</translation>
    </message>
    <message>
        <source>Could not disconnect</source>
        <translation>Trennen fehlgeschlagen</translation>
    </message>
</context>
<context>
    <name>calnet::app::Importer</name>
    <message>
        <source>Line %1: %2</source>
        <translation>Zeile %1: %2</translation>
    </message>
    <message>
        <source>Import WireGuard tunnels</source>
        <translation>WireGuard-Tunnel importieren</translation>
    </message>
    <message>
        <source>WireGuard tunnels (*.conf)</source>
        <translation>WireGuard-Tunnel (*.conf)</translation>
    </message>
    <message>
        <source>The Calnet service is not running, so nothing can be imported now.</source>
        <translation>Der Calnet-Dienst läuft nicht, daher kann derzeit nichts importiert werden.</translation>
    </message>
    <message>
        <source>This is a folder, not a file.</source>
        <translation>Dies ist ein Ordner, keine Datei.</translation>
    </message>
    <message>
        <source>The file is larger than %1 KiB. A WireGuard configuration is a few kilobytes; is this the right file?</source>
        <translation>Die Datei ist größer als %1 KiB. Eine WireGuard-Konfiguration ist nur wenige Kilobyte groß – ist das die richtige Datei?</translation>
    </message>
    <message>
        <source>The file is not UTF-8 text.</source>
        <translation>Die Datei ist kein UTF-8-Text.</translation>
    </message>
    <message>
        <source>Imported %1</source>
        <translation>%1 importiert</translation>
    </message>
    <message>
        <source>The tunnel “%1” from %2 is ready.</source>
        <translation>Der Tunnel „%1“ aus %2 ist bereit.</translation>
    </message>
    <message>
        <source>Importing tunnels needs administrator rights: your account must be a member of the “calnet” group. Ask an administrator to run
    sudo usermod -aG calnet %1
then log out and back in.</source>
        <translation>Zum Importieren von Tunneln sind Administratorrechte nötig: Ihr Konto muss Mitglied der Gruppe „calnet“ sein. Bitten Sie Ihren Administrator, Folgendes auszuführen:
    sudo usermod -aG calnet %1
Melden Sie sich danach ab und wieder an.</translation>
    </message>
    <message numerus="yes">
        <source>… and %n more (see details)</source>
        <translation>
            <numerusform>… und %n weiterer (siehe Details)</numerusform>
            <numerusform>… und %n weitere (siehe Details)</numerusform>
        </translation>
    </message>
    <message>
        <source>The file is not a valid WireGuard configuration.</source>
        <translation>Die Datei ist keine gültige WireGuard-Konfiguration.</translation>
    </message>
    <message>
        <source>The Calnet service refused the file.</source>
        <translation>Der Calnet-Dienst hat die Datei abgelehnt.</translation>
    </message>
    <message>
        <source>Could not import %1</source>
        <translation>%1 konnte nicht importiert werden</translation>
    </message>
    <message>
        <source>Import tunnel</source>
        <translation>Tunnel importieren</translation>
    </message>
    <message>
        <source>Connect now</source>
        <translation>Jetzt verbinden</translation>
    </message>
    <message>
        <source>Connects the imported tunnel</source>
        <translation>Verbindet den importierten Tunnel</translation>
    </message>
</context>
<context>
    <name>calnet::app::MainWindow</name>
    <message>
        <source>Calnet</source>
        <translation>Calnet</translation>
    </message>
    <message>
        <source>Service status</source>
        <translation>Dienststatus</translation>
    </message>
    <message>
        <source>Connection state icon</source>
        <translation>Symbol des Verbindungsstatus</translation>
    </message>
    <message>
        <source>Connection state</source>
        <translation>Verbindungsstatus</translation>
    </message>
    <message>
        <source>Connection details</source>
        <translation>Verbindungsdetails</translation>
    </message>
    <message>
        <source>Copy &amp;address</source>
        <translation>&amp;Adresse kopieren</translation>
    </message>
    <message>
        <source>Copy this device&apos;s tunnel address</source>
        <translation>Tunneladresse dieses Geräts kopieren</translation>
    </message>
    <message>
        <source>Address copied</source>
        <translation>Adresse kopiert</translation>
    </message>
    <message>
        <source>&amp;Profile:</source>
        <translation>&amp;Profil:</translation>
    </message>
    <message>
        <source>Profile</source>
        <translation>Profil</translation>
    </message>
    <message>
        <source>Connect or disconnect</source>
        <translation>Verbinden oder trennen</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>&amp;Import tunnel…</source>
        <translation>Tunnel &amp;importieren…</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Einstellungen…</translation>
    </message>
    <message>
        <source>&amp;Close window</source>
        <translation>Fenster &amp;schließen</translation>
    </message>
    <message>
        <source>&amp;Quit Calnet</source>
        <translation>Calnet &amp;beenden</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>&amp;About Calnet</source>
        <translation>Über &amp;Calnet</translation>
    </message>
    <message>
        <source>Profile %1</source>
        <translation>Profil %1</translation>
    </message>
    <message>
        <source>This device: %1</source>
        <translation>Dieses Gerät: %1</translation>
    </message>
    <message numerus="yes">
        <source>%n peer(s) not responding</source>
        <translation>
            <numerusform>%n Peer antwortet nicht</numerusform>
            <numerusform>%n Peers antworten nicht</numerusform>
        </translation>
    </message>
    <message>
        <source>Connecting to the Calnet service at %1…</source>
        <translation>Verbindung zum Calnet-Dienst unter %1 wird hergestellt…</translation>
    </message>
    <message>
        <source>&amp;Disconnect</source>
        <translation>&amp;Trennen</translation>
    </message>
    <message>
        <source>&amp;Connect</source>
        <translation>&amp;Verbinden</translation>
    </message>
    <message>
        <source>The Calnet service is not running.</source>
        <translation>Der Calnet-Dienst läuft nicht.</translation>
    </message>
    <message>
        <source>No tunnels yet. Import a .conf file (File → Import tunnel…) or drop it here.</source>
        <translation>Noch keine Tunnel. Importieren Sie eine .conf-Datei (Datei → Tunnel importieren…) oder ziehen Sie sie hierher.</translation>
    </message>
    <message>
        <source>Not connected.</source>
        <translation>Nicht verbunden.</translation>
    </message>
    <message>
        <source>No peers in this profile.</source>
        <translation>Keine Peers in diesem Profil.</translation>
    </message>
    <message>
        <source>Peers</source>
        <translation>Peer-Übersicht</translation>
    </message>
    <message>
        <source>Move the tunnel to the chosen profile</source>
        <translation>Tunnel auf das gewählte Profil umstellen</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message numerus="yes">
        <source>The Calnet service (calnetd) is not reachable at %1. Retrying in %n second(s)…</source>
        <translation>
            <numerusform>Der Calnet-Dienst (calnetd) ist unter %1 nicht erreichbar. Neuer Versuch in %n Sekunde…</numerusform>
            <numerusform>Der Calnet-Dienst (calnetd) ist unter %1 nicht erreichbar. Neuer Versuch in %n Sekunden…</numerusform>
        </translation>
    </message>
    <message>
        <source>S&amp;witch to %1</source>
        <translation>&amp;Wechseln zu %1</translation>
    </message>
    <message>
        <source>Loading peers…</source>
        <translation>Peers werden geladen…</translation>
    </message>
</context>
<context>
    <name>calnet::app::PeerBrowser</name>
    <message>
        <source>Filter by name, key, address or endpoint</source>
        <translation>Nach Name, Schlüssel, Adresse oder Endpunkt filtern</translation>
    </message>
    <message>
        <source>Filter peers</source>
        <translation>Peers filtern</translation>
    </message>
    <message>
        <source>Peers</source>
        <translation>Peers</translation>
    </message>
    <message>
        <source>No peers</source>
        <translation>Keine Peers</translation>
    </message>
    <message>
        <source>No peer selected</source>
        <translation>Kein Peer ausgewählt</translation>
    </message>
    <message>
        <source>Peer details</source>
        <translation>Peer-Details</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Public key</source>
        <translation>Öffentlicher Schlüssel</translation>
    </message>
    <message>
        <source>Allowed IPs</source>
        <translation>Erlaubte IPs</translation>
    </message>
    <message>
        <source>Endpoint</source>
        <translation>Endpunkt</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>Pfad</translation>
    </message>
    <message>
        <source>Last handshake</source>
        <translation>Letzter Handshake</translation>
    </message>
    <message>
        <source>Transfer</source>
        <translation>Übertragung</translation>
    </message>
    <message>
        <source>Persistent keepalive</source>
        <translation>Dauerhaftes Keepalive</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>Name:</translation>
    </message>
    <message>
        <source>Public key:</source>
        <translation>Öffentlicher Schlüssel:</translation>
    </message>
    <message>
        <source>Allowed IPs:</source>
        <translation>Erlaubte IPs:</translation>
    </message>
    <message>
        <source>Endpoint:</source>
        <translation>Endpunkt:</translation>
    </message>
    <message>
        <source>Path:</source>
        <translation>Pfad:</translation>
    </message>
    <message>
        <source>Last handshake:</source>
        <translation>Letzter Handshake:</translation>
    </message>
    <message>
        <source>Transfer:</source>
        <translation>Übertragung:</translation>
    </message>
    <message>
        <source>Keepalive:</source>
        <translation>Keepalive:</translation>
    </message>
    <message>
        <source>Copy key</source>
        <translation>Schlüssel kopieren</translation>
    </message>
    <message>
        <source>Copy public key</source>
        <translation>Öffentlichen Schlüssel kopieren</translation>
    </message>
    <message>
        <source>Copies the peer&apos;s public key to the clipboard</source>
        <translation>Kopiert den öffentlichen Schlüssel des Peers in die Zwischenablage</translation>
    </message>
    <message>
        <source>Copy address</source>
        <translation>Adresse kopieren</translation>
    </message>
    <message>
        <source>Copies the peer&apos;s first allowed IP to the clipboard</source>
        <translation>Kopiert die erste erlaubte IP des Peers in die Zwischenablage</translation>
    </message>
    <message>
        <source>Copy endpoint</source>
        <translation>Endpunkt kopieren</translation>
    </message>
    <message>
        <source>Copies the peer&apos;s endpoint to the clipboard</source>
        <translation>Kopiert den Endpunkt des Peers in die Zwischenablage</translation>
    </message>
    <message>
        <source>Peer count</source>
        <translation>Anzahl der Peers</translation>
    </message>
    <message numerus="yes">
        <source>%n peer(s) (%1 shown)</source>
        <translation>
            <numerusform>%n Peer (%1 angezeigt)</numerusform>
            <numerusform>%n Peers (%1 angezeigt)</numerusform>
        </translation>
    </message>
    <message>
        <source>none</source>
        <translation>keine Angabe</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>unbekannt</translation>
    </message>
    <message>
        <source>%1 ago (%2)</source>
        <translation>vor %1 (%2)</translation>
    </message>
    <message>
        <source>never</source>
        <translation>nie</translation>
    </message>
    <message>
        <source>%1 received, %2 sent</source>
        <translation>%1 empfangen, %2 gesendet</translation>
    </message>
    <message numerus="yes">
        <source>every %n second(s)</source>
        <translation>
            <numerusform>im Abstand von %n Sekunde</numerusform>
            <numerusform>im Abstand von %n Sekunden</numerusform>
        </translation>
    </message>
    <message>
        <source>off</source>
        <translation>aus</translation>
    </message>
    <message>
        <source>Shows only the peers whose name, public key, address or endpoint contains this text. %1 moves here, Escape clears it.</source>
        <translation>Zeigt nur die Peers, deren Name, öffentlicher Schlüssel, Adresse oder Endpunkt diesen Text enthält. %1 springt hierher, Escape leert das Feld.</translation>
    </message>
    <message>
        <source>One row per peer. %1 copies the address of the current peer.</source>
        <translation>Eine Zeile pro Peer. %1 kopiert die Adresse des aktuellen Peers.</translation>
    </message>
    <message>
        <source>%1 (no name)</source>
        <translation>%1 (ohne Namen)</translation>
    </message>
</context>
<context>
    <name>calnet::app::PeerModel</name>
    <message>
        <source>relayed</source>
        <translation>über Relay</translation>
    </message>
    <message>
        <source>direct</source>
        <translation>direkt</translation>
    </message>
    <message>
        <source>never</source>
        <translation>nie</translation>
    </message>
    <message>
        <source>%1 ago · %2</source>
        <translation>vor %1 · %2</translation>
    </message>
    <message>
        <source>every %1 s</source>
        <translation>alle %1 s</translation>
    </message>
    <message>
        <source>off</source>
        <translation>aus</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Addresses</source>
        <translation>Adressen</translation>
    </message>
    <message>
        <source>Endpoint</source>
        <translation>Endpunkt</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>Pfad</translation>
    </message>
    <message>
        <source>Last handshake</source>
        <translation>Letzter Handshake</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>Empfangen</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Gesendet</translation>
    </message>
    <message>
        <source>Keepalive</source>
        <translation>Keepalive</translation>
    </message>
    <message numerus="yes">
        <source>%n B</source>
        <translation>
            <numerusform>%n B</numerusform>
            <numerusform>%n B</numerusform>
        </translation>
    </message>
    <message>
        <source>%1 d %2 h</source>
        <translation>%1 T %2 h</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 h %2 min</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 min %2 s</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 s</translation>
    </message>
    <message>
        <source>healthy</source>
        <translation>aktiv</translation>
    </message>
    <message>
        <source>stale</source>
        <translation>veraltet</translation>
    </message>
    <message>
        <source>dead</source>
        <translation>nicht erreichbar</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>offline</translation>
    </message>
    <message>
        <source>relayed via %1</source>
        <translation>über Relay %1</translation>
    </message>
    <message>
        <source>no path</source>
        <translation>kein Pfad</translation>
    </message>
    <message>
        <source>%1 · %2 ms</source>
        <translation>%1 · %2 ms</translation>
    </message>
    <message>
        <source>The server reports this peer offline.</source>
        <translation>Der Server meldet diesen Peer als offline.</translation>
    </message>
    <message>
        <source>the relay</source>
        <translation>das Relay</translation>
    </message>
    <message>
        <source>Relayed via %1</source>
        <translation>Über Relay %1</translation>
    </message>
    <message>
        <source>Relayed via %1 since %2</source>
        <translation>Über Relay %1 seit %2</translation>
    </message>
    <message>
        <source>No path</source>
        <translation>Kein Pfad</translation>
    </message>
    <message>
        <source>No path since %1</source>
        <translation>Kein Pfad seit %1</translation>
    </message>
    <message>
        <source>Direct to %1</source>
        <translation>Direkt zu %1</translation>
    </message>
    <message>
        <source>Direct to %1 since %2</source>
        <translation>Direkt zu %1 seit %2</translation>
    </message>
    <message>
        <source>Direct</source>
        <translation>Direkt</translation>
    </message>
    <message>
        <source>%1, %2 ms</source>
        <translation>%1, %2 ms</translation>
    </message>
    <message>
        <source>%1 — %2</source>
        <translation>%1 — %2</translation>
    </message>
</context>
<context>
    <name>calnet::app::SettingsDialog</name>
    <message>
        <source>Calnet Settings</source>
        <translation>Calnet-Einstellungen</translation>
    </message>
    <message>
        <source>Show &amp;notifications</source>
        <translation>&amp;Benachrichtigungen anzeigen</translation>
    </message>
    <message>
        <source>Show notifications</source>
        <translation>Benachrichtigungen anzeigen</translation>
    </message>
    <message>
        <source>Tell me when the tunnel connects, disconnects or fails.</source>
        <translation>Benachrichtigt Sie, wenn der Tunnel verbunden oder getrennt wird oder ausfällt.</translation>
    </message>
    <message>
        <source>&amp;Start Calnet when I log in</source>
        <translation>Calnet beim &amp;Anmelden starten</translation>
    </message>
    <message>
        <source>Start Calnet when I log in</source>
        <translation>Calnet beim Anmelden starten</translation>
    </message>
    <message>
        <source>Start at login error</source>
        <translation>Fehler beim Autostart</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>&amp;Sprache:</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Sprache</translation>
    </message>
    <message>
        <source>The language applies when Calnet is next started.</source>
        <translation>Die Sprache wird beim nächsten Start von Calnet übernommen.</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Schließen</translation>
    </message>
    <message>
        <source>Could not turn on start at login: %1</source>
        <translation>Autostart konnte nicht eingeschaltet werden: %1</translation>
    </message>
    <message>
        <source>Could not turn off start at login: %1</source>
        <translation>Autostart konnte nicht ausgeschaltet werden: %1</translation>
    </message>
</context>
<context>
    <name>calnet::app::TrayController</name>
    <message>
        <source>Calnet menu</source>
        <translation>Calnet-Menü</translation>
    </message>
    <message>
        <source>%1 — %2</source>
        <translation>%1 — %2</translation>
    </message>
    <message>
        <source>&amp;Disconnect</source>
        <translation>&amp;Trennen</translation>
    </message>
    <message>
        <source>&amp;Connect</source>
        <translation>&amp;Verbinden</translation>
    </message>
    <message>
        <source>&amp;Connect to %1</source>
        <translation>Mit %1 &amp;verbinden</translation>
    </message>
    <message>
        <source>&amp;Profile</source>
        <translation>P&amp;rofil</translation>
    </message>
    <message>
        <source>No tunnels yet — import one to connect</source>
        <translation>Noch keine Tunnel – importieren Sie einen, um sich zu verbinden</translation>
    </message>
    <message>
        <source>This device: %1</source>
        <translation>Dieses Gerät: %1</translation>
    </message>
    <message>
        <source>Click to copy</source>
        <translation>Zum Kopieren klicken</translation>
    </message>
    <message>
        <source>Peers</source>
        <translation>Peers</translation>
    </message>
    <message>
        <source>%1 ago</source>
        <translation>vor %1</translation>
    </message>
    <message>
        <source>%1 — click to copy %2</source>
        <translation>%1 – zum Kopieren von %2 klicken</translation>
    </message>
    <message numerus="yes">
        <source>Show all %n peer(s)…</source>
        <translation>
            <numerusform>%n Peer anzeigen…</numerusform>
            <numerusform>Alle %n Peers anzeigen…</numerusform>
        </translation>
    </message>
    <message>
        <source>Peer &amp;browser…</source>
        <translation>&amp;Peer-Übersicht…</translation>
    </message>
    <message>
        <source>&amp;Import tunnel…</source>
        <translation>Tunnel &amp;importieren…</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Einstellungen…</translation>
    </message>
    <message>
        <source>&amp;About Calnet</source>
        <translation>Über &amp;Calnet</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
</context>
<context>
    <name>calnet::app::autostart</name>
    <message>
        <source>Connect to your Calnet network from the tray</source>
        <translation>Über die Kontrollleiste mit Ihrem Calnet-Netzwerk verbinden</translation>
    </message>
    <message>
        <source>Could not remove %1: %2</source>
        <translation>%1 konnte nicht entfernt werden: %2</translation>
    </message>
    <message>
        <source>Could not create the folder %1.</source>
        <translation>Der Ordner %1 konnte nicht erstellt werden.</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>%1 konnte nicht geschrieben werden: %2</translation>
    </message>
</context>
<context>
    <name>calnet::app::translation</name>
    <message>
        <source>System default</source>
        <translation>Systemvorgabe</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Calnet desktop app: tray icon and peer browser.</source>
        <translation>Calnet-Desktop-Anwendung: Symbol in der Kontrollleiste und Peer-Übersicht.</translation>
    </message>
    <message>
        <source>The helper&apos;s socket (default %1).</source>
        <translation>Socket des Calnet-Dienstes (Standard: %1).</translation>
    </message>
    <message>
        <source>Open the main window instead of a tray icon.</source>
        <translation>Hauptfenster statt eines Symbols in der Kontrollleiste öffnen.</translation>
    </message>
    <message>
        <source>Open the peer browser at start.</source>
        <translation>Peer-Übersicht beim Start öffnen.</translation>
    </message>
    <message>
        <source>Started at login (used by the autostart entry).</source>
        <translation>Beim Anmelden gestartet (vom Autostart-Eintrag verwendet).</translation>
    </message>
</context>
</TS>
