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
    <name>QObject</name>
    <message>
        <source>The sign-in was cancelled at the identity provider.</source>
        <translation>Die Anmeldung wurde beim Identitätsanbieter abgebrochen.</translation>
    </message>
    <message>
        <source>The identity provider wants you to sign in again.</source>
        <translation>Der Identitätsanbieter verlangt eine erneute Anmeldung.</translation>
    </message>
    <message>
        <source>The identity provider refused the sign-in (%1).</source>
        <translation>Der Identitätsanbieter hat die Anmeldung abgelehnt (%1).</translation>
    </message>
    <message>
        <source>The identity provider no longer accepts this sign-in (%1). Sign in again.</source>
        <translation>Der Identitätsanbieter akzeptiert diese Anmeldung nicht mehr (%1). Bitte melden Sie sich erneut an.</translation>
    </message>
    <message>
        <source>Cannot reach the identity provider at %1: %2.</source>
        <translation>Der Identitätsanbieter unter %1 ist nicht erreichbar: %2.</translation>
    </message>
    <message>
        <source>The identity provider refused the sign-in: %1.</source>
        <translation>Der Identitätsanbieter hat die Anmeldung abgelehnt: %1.</translation>
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
    <name>calnet::app::Account</name>
    <message>
        <source>%1 does not offer sign-in with an identity provider. Join it with an auth key instead.</source>
        <translation>%1 bietet keine Anmeldung über einen Identitätsanbieter an. Treten Sie stattdessen mit einem Auth-Schlüssel bei.</translation>
    </message>
    <message>
        <source>This device has no saved sign-in for %1.</source>
        <translation>Dieses Gerät hat keine gespeicherte Anmeldung für %1.</translation>
    </message>
    <message>
        <source>The keychain is not available: %1</source>
        <translation>Der Schlüsselbund ist nicht verfügbar: %1</translation>
    </message>
    <message>
        <source>Signed out, but the device could not be removed from the network: %1</source>
        <translation>Abgemeldet, aber das Gerät konnte nicht aus dem Netzwerk entfernt werden: %1</translation>
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
    <message>
        <source>Sign in again to stay connected</source>
        <translation>Melden Sie sich erneut an, um verbunden zu bleiben</translation>
    </message>
    <message>
        <source>Your sign-in to %1 could not be renewed: %2</source>
        <translation>Ihre Anmeldung bei %1 konnte nicht erneuert werden: %2</translation>
    </message>
    <message>
        <source>Sign out of Calnet?</source>
        <translation>Von Calnet abmelden?</translation>
    </message>
    <message>
        <source>Sign out of %1 as %2? The tunnel goes down and this device forgets its place in the network.</source>
        <translation>Als %2 von %1 abmelden? Der Tunnel wird getrennt und dieses Gerät vergisst seinen Platz im Netzwerk.</translation>
    </message>
    <message>
        <source>Sign out</source>
        <translation>Abmelden</translation>
    </message>
    <message>
        <source>Also remove this device from the network</source>
        <translation>Dieses Gerät auch aus dem Netzwerk entfernen</translation>
    </message>
    <message>
        <source>Sign-out incomplete</source>
        <translation>Abmeldung unvollständig</translation>
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
        <source>Copy this device's tunnel address</source>
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
    <message>
        <source>Si&amp;gn in to a Calnet network…</source>
        <translation>Bei einem Calnet-Netzwerk an&amp;melden…</translation>
    </message>
    <message>
        <source>Sign &amp;out…</source>
        <translation>&amp;Abmelden…</translation>
    </message>
    <message>
        <source>Signed in as %1</source>
        <translation>Angemeldet als %1</translation>
    </message>
    <message>
        <source>Sign in again to stay connected</source>
        <translation>Melden Sie sich erneut an, um verbunden zu bleiben</translation>
    </message>
    <message>
        <source>Not on a network yet. Sign in to your organisation's Calnet network (File → Sign in to a Calnet network…), or import a .conf file (File → Import tunnel…) or drop it here.</source>
        <translation>Noch in keinem Netzwerk. Melden Sie sich beim Calnet-Netzwerk Ihrer Organisation an (Datei → Bei einem Calnet-Netzwerk anmelden…), oder importieren Sie eine .conf-Datei (Datei → Tunnel importieren…) oder ziehen Sie sie hierher.</translation>
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
        <source>Copies the peer's public key to the clipboard</source>
        <translation>Kopiert den öffentlichen Schlüssel des Peers in die Zwischenablage</translation>
    </message>
    <message>
        <source>Copy address</source>
        <translation>Adresse kopieren</translation>
    </message>
    <message>
        <source>Copies the peer's first allowed IP to the clipboard</source>
        <translation>Kopiert die erste erlaubte IP des Peers in die Zwischenablage</translation>
    </message>
    <message>
        <source>Copy endpoint</source>
        <translation>Endpunkt kopieren</translation>
    </message>
    <message>
        <source>Copies the peer's endpoint to the clipboard</source>
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
    <name>calnet::app::SignInDialog</name>
    <message>
        <source>Sign in to a Calnet network</source>
        <translation>Bei einem Calnet-Netzwerk anmelden</translation>
    </message>
    <message>
        <source>Enter the address of your organisation's Calnet server. You sign in with your company account in your browser.</source>
        <translation>Geben Sie die Adresse des Calnet-Servers Ihrer Organisation ein. Sie melden sich im Browser mit Ihrem Firmenkonto an.</translation>
    </message>
    <message>
        <source>Server address</source>
        <translation>Serveradresse</translation>
    </message>
    <message>
        <source>&amp;Server:</source>
        <translation>&amp;Server:</translation>
    </message>
    <message>
        <source>Auth key</source>
        <translation>Auth-Schlüssel</translation>
    </message>
    <message>
        <source>&amp;Auth key:</source>
        <translation>A&amp;uth-Schlüssel:</translation>
    </message>
    <message>
        <source>Sign &amp;in</source>
        <translation>&amp;Anmelden</translation>
    </message>
    <message>
        <source>Join with an auth &amp;key…</source>
        <translation>Mit Auth-&amp;Schlüssel beitreten…</translation>
    </message>
    <message>
        <source>&amp;Join</source>
        <translation>&amp;Beitreten</translation>
    </message>
    <message>
        <source>Waiting for the browser…</source>
        <translation>Warten auf den Browser…</translation>
    </message>
    <message>
        <source>Sign in on the page that opened in your browser. If no page opened, copy the link and open it in a browser.</source>
        <translation>Melden Sie sich auf der Seite an, die sich im Browser geöffnet hat. Wenn sich keine Seite geöffnet hat, kopieren Sie den Link und öffnen Sie ihn in einem Browser.</translation>
    </message>
    <message>
        <source>&amp;Copy link</source>
        <translation>Link &amp;kopieren</translation>
    </message>
    <message>
        <source>Copied</source>
        <translation>Kopiert</translation>
    </message>
    <message>
        <source>Enter the address of the Calnet server.</source>
        <translation>Geben Sie die Adresse des Calnet-Servers ein.</translation>
    </message>
    <message>
        <source>%1 is not a server address. It looks like https://calnet.example.com.</source>
        <translation>%1 ist keine Serveradresse. Sie sieht so aus: https://calnet.example.com.</translation>
    </message>
    <message>
        <source>No browser could be opened. Copy the link and open it in a browser:</source>
        <translation>Es konnte kein Browser geöffnet werden. Kopieren Sie den Link und öffnen Sie ihn in einem Browser:</translation>
    </message>
    <message>
        <source>Joining the network…</source>
        <translation>Netzwerkbeitritt…</translation>
    </message>
    <message>
        <source>Enter the auth key your administrator gave you.</source>
        <translation>Geben Sie den Auth-Schlüssel ein, den Sie von Ihrer Administration erhalten haben.</translation>
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
    <message>
        <source>%1 — sign in again to stay connected</source>
        <translation>%1 – erneut anmelden, um verbunden zu bleiben</translation>
    </message>
    <message>
        <source>Signed in as %1</source>
        <translation>Angemeldet als %1</translation>
    </message>
    <message>
        <source>Sign &amp;out…</source>
        <translation>&amp;Abmelden…</translation>
    </message>
    <message>
        <source>Sign in to a Calnet &amp;network…</source>
        <translation>Bei einem Calnet-&amp;Netzwerk anmelden…</translation>
    </message>
    <message>
        <source>Not on a network yet — sign in or import a tunnel</source>
        <translation>Noch in keinem Netzwerk – anmelden oder einen Tunnel importieren</translation>
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
    <name>calnet::signin::BrowserSignIn</name>
    <message numerus="yes">
        <source>The browser did not come back within %n minute(s). Sign in again.</source>
        <translation>
            <numerusform>Der Browser ist nicht innerhalb von %n Minute zurückgekehrt. Bitte melden Sie sich erneut an.</numerusform>
            <numerusform>Der Browser ist nicht innerhalb von %n Minuten zurückgekehrt. Bitte melden Sie sich erneut an.</numerusform>
        </translation>
    </message>
    <message>
        <source>The identity provider's answer belongs to another sign-in.</source>
        <translation>Die Antwort des Identitätsanbieters gehört zu einer anderen Anmeldung.</translation>
    </message>
</context>
<context>
    <name>calnet::signin::DeviceSignIn</name>
    <message>
        <source>The code %1 expired before the sign-in was done. Sign in again.</source>
        <translation>Der Code %1 ist abgelaufen, bevor die Anmeldung abgeschlossen war. Bitte melden Sie sich erneut an.</translation>
    </message>
    <message>
        <source>The sign-in was refused at the identity provider.</source>
        <translation>Die Anmeldung wurde beim Identitätsanbieter abgelehnt.</translation>
    </message>
</context>
<context>
    <name>calnet::signin::LoopbackReceiver</name>
    <message>
        <source>Request too large</source>
        <translation>Anfrage zu groß</translation>
    </message>
    <message>
        <source>This request is too large.</source>
        <translation>Diese Anfrage ist zu groß.</translation>
    </message>
    <message>
        <source>Calnet sign-in</source>
        <translation>Calnet-Anmeldung</translation>
    </message>
    <message>
        <source>This is not a sign-in request.</source>
        <translation>Dies ist keine Anmeldeanfrage.</translation>
    </message>
    <message>
        <source>This request was not sent to the sign-in address.</source>
        <translation>Diese Anfrage ging nicht an die Anmeldeadresse.</translation>
    </message>
    <message>
        <source>Nothing here.</source>
        <translation>Hier ist nichts.</translation>
    </message>
    <message>
        <source>This sign-in link is not the one Calnet is waiting for. Start the sign-in again from Calnet.</source>
        <translation>Auf diesen Anmeldelink wartet Calnet nicht. Starten Sie die Anmeldung erneut in Calnet.</translation>
    </message>
    <message>
        <source>The identity provider sent the browser back without a sign-in code.</source>
        <translation>Der Identitätsanbieter hat den Browser ohne Anmeldecode zurückgeschickt.</translation>
    </message>
    <message>
        <source>Sign-in failed</source>
        <translation>Anmeldung fehlgeschlagen</translation>
    </message>
    <message>
        <source>Signed in</source>
        <translation>Angemeldet</translation>
    </message>
    <message>
        <source>Calnet has your sign-in. You can close this tab and go back to Calnet.</source>
        <translation>Calnet hat Ihre Anmeldung erhalten. Sie können diesen Tab schließen und zu Calnet zurückkehren.</translation>
    </message>
    <message>
        <source>Cannot listen on 127.0.0.1 for the browser: %1.</source>
        <translation>Auf 127.0.0.1 kann nicht auf den Browser gewartet werden: %1.</translation>
    </message>
</context>
<context>
    <name>calnet::signin::ProviderClient</name>
    <message>
        <source>The identity provider at %1 answered HTTP %2 for its discovery document.</source>
        <translation>Der Identitätsanbieter unter %1 antwortete auf die Abfrage seines Discovery-Dokuments mit HTTP %2.</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Calnet desktop app: tray icon and peer browser.</source>
        <translation>Calnet-Desktop-Anwendung: Symbol in der Kontrollleiste und Peer-Übersicht.</translation>
    </message>
    <message>
        <source>The helper's socket (default %1).</source>
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
