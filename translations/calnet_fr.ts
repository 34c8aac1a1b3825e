<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR">
<context>
    <name>ProfileModel</name>
    <message>
        <source>Addresses: %1</source>
        <translation>Adresses : %1</translation>
    </message>
    <message numerus="yes">
        <source>%n peer(s)</source>
        <translation>
            <numerusform>%n pair</numerusform>
            <numerusform>%n pairs</numerusform>
        </translation>
    </message>
    <message>
        <source>Routes all traffic</source>
        <translation>Fait passer tout le trafic par le tunnel</translation>
    </message>
</context>
<context>
    <name>QObject</name>
    <message>
        <source>The sign-in was cancelled at the identity provider.</source>
        <translation>La connexion a été annulée chez le fournisseur d’identité.</translation>
    </message>
    <message>
        <source>The identity provider wants you to sign in again.</source>
        <translation>Le fournisseur d’identité demande une nouvelle connexion.</translation>
    </message>
    <message>
        <source>The identity provider refused the sign-in (%1).</source>
        <translation>Le fournisseur d’identité a refusé la connexion (%1).</translation>
    </message>
    <message>
        <source>The identity provider no longer accepts this sign-in (%1). Sign in again.</source>
        <translation>Le fournisseur d’identité n’accepte plus cette connexion (%1). Reconnectez-vous.</translation>
    </message>
    <message>
        <source>Cannot reach the identity provider at %1: %2.</source>
        <translation>Impossible de joindre le fournisseur d’identité à %1 : %2.</translation>
    </message>
    <message>
        <source>The identity provider refused the sign-in: %1.</source>
        <translation>Le fournisseur d’identité a refusé la connexion : %1.</translation>
    </message>
</context>
<context>
    <name>TrayState</name>
    <message>
        <source>Calnet service not running</source>
        <translation>Le service Calnet ne fonctionne pas</translation>
    </message>
    <message>
        <source>Disconnected</source>
        <translation>Déconnecté</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Connexion en cours…</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>Connecté</translation>
    </message>
    <message>
        <source>Connected, some peers not responding</source>
        <translation>Connecté, certains pairs ne répondent pas</translation>
    </message>
    <message>
        <source>Connection failed</source>
        <translation>Échec de la connexion</translation>
    </message>
    <message>
        <source>Profile: %1</source>
        <translation>Profil : %1</translation>
    </message>
    <message>
        <source>This device: %1</source>
        <translation>Cet appareil : %1</translation>
    </message>
    <message numerus="yes">
        <source>%n peer(s), %1 not responding</source>
        <translation>
            <numerusform>%n pair, dont %1 sans réponse</numerusform>
            <numerusform>%n pairs, dont %1 sans réponse</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n peer(s)</source>
        <translation>
            <numerusform>%n pair</numerusform>
            <numerusform>%n pairs</numerusform>
        </translation>
    </message>
    <message>
        <source>Retrying to reach calnetd…</source>
        <translation>Nouvelle tentative de connexion à calnetd…</translation>
    </message>
    <message numerus="yes">
        <source>%n peer(s) through a relay</source>
        <translation>
            <numerusform>%n pair par un relais</numerusform>
            <numerusform>%n pairs par un relais</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>calnet::app::Account</name>
    <message>
        <source>%1 does not offer sign-in with an identity provider. Join it with an auth key instead.</source>
        <translation>%1 ne propose pas de connexion par un fournisseur d’identité. Rejoignez-le plutôt avec une clé d’authentification.</translation>
    </message>
    <message>
        <source>This device has no saved sign-in for %1.</source>
        <translation>Cet appareil n’a pas de connexion enregistrée pour %1.</translation>
    </message>
    <message>
        <source>The keychain is not available: %1</source>
        <translation>Le trousseau n’est pas disponible : %1</translation>
    </message>
    <message>
        <source>Signed out, but the device could not be removed from the network: %1</source>
        <translation>Déconnecté, mais l’appareil n’a pas pu être retiré du réseau : %1</translation>
    </message>
</context>
<context>
    <name>calnet::app::Application</name>
    <message>
        <source>Calnet connected</source>
        <translation>Calnet connecté</translation>
    </message>
    <message>
        <source>Connected to %1.</source>
        <translation>Connecté à %1.</translation>
    </message>
    <message>
        <source>Calnet disconnected</source>
        <translation>Calnet déconnecté</translation>
    </message>
    <message>
        <source>Disconnected from %1.</source>
        <translation>Déconnecté de %1.</translation>
    </message>
    <message>
        <source>Calnet connection failed</source>
        <translation>Échec de la connexion Calnet</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1 : %2</translation>
    </message>
    <message>
        <source>About Calnet</source>
        <translation>À propos de Calnet</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Calnet %1&lt;/h3&gt;&lt;p&gt;A self-hostable mesh VPN built on WireGuard.&lt;/p&gt;&lt;p&gt;Service socket: %2&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Calnet %1&lt;/h3&gt;&lt;p&gt;Un VPN maillé auto-hébergeable fondé sur WireGuard.&lt;/p&gt;&lt;p&gt;Socket du service : %2&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Sign in again to stay connected</source>
        <translation>Reconnectez-vous pour rester connecté</translation>
    </message>
    <message>
        <source>Your sign-in to %1 could not be renewed: %2</source>
        <translation>Votre connexion à %1 n’a pas pu être renouvelée : %2</translation>
    </message>
    <message>
        <source>Sign out of Calnet?</source>
        <translation>Se déconnecter de Calnet ?</translation>
    </message>
    <message>
        <source>Sign out of %1 as %2? The tunnel goes down and this device forgets its place in the network.</source>
        <translation>Se déconnecter de %1 en tant que %2 ? Le tunnel est coupé et cet appareil oublie sa place dans le réseau.</translation>
    </message>
    <message>
        <source>Sign out</source>
        <translation>Se déconnecter</translation>
    </message>
    <message>
        <source>Also remove this device from the network</source>
        <translation>Retirer aussi cet appareil du réseau</translation>
    </message>
    <message>
        <source>Sign-out incomplete</source>
        <translation>Déconnexion incomplète</translation>
    </message>
</context>
<context>
    <name>calnet::app::HelperSession</name>
    <message>
        <source>The Calnet service is not running.</source>
        <translation>Le service Calnet ne fonctionne pas.</translation>
    </message>
    <message>
        <source>Only members of the “calnet” group may change the connection. Ask an administrator to add your account to it (usermod -aG calnet %1), then sign in again.</source>
        <translation>Seuls les membres du groupe « calnet » peuvent modifier la connexion. Demandez à un administrateur d’y ajouter votre compte (usermod -aG calnet %1), puis reconnectez-vous à votre session.</translation>
    </message>
    <message>
        <source>Could not connect</source>
        <translation>Échec de la connexion</translation>
    </message>
    <message>
        <source>Could not disconnect</source>
        <translation>Échec de la déconnexion</translation>
    </message>
</context>
<context>
    <name>calnet::app::Importer</name>
    <message>
        <source>Line %1: %2</source>
        <translation>Ligne %1 : %2</translation>
    </message>
    <message>
        <source>Import WireGuard tunnels</source>
        <translation>Importer des tunnels WireGuard</translation>
    </message>
    <message>
        <source>WireGuard tunnels (*.conf)</source>
        <translation>Tunnels WireGuard (*.conf)</translation>
    </message>
    <message>
        <source>The Calnet service is not running, so nothing can be imported now.</source>
        <translation>Le service Calnet ne fonctionne pas, aucun import n’est donc possible pour le moment.</translation>
    </message>
    <message>
        <source>This is a folder, not a file.</source>
        <translation>Il s’agit d’un dossier, pas d’un fichier.</translation>
    </message>
    <message>
        <source>The file is larger than %1 KiB. A WireGuard configuration is a few kilobytes; is this the right file?</source>
        <translation>Le fichier dépasse %1 Kio. Une configuration WireGuard ne fait que quelques kilooctets ; est-ce bien le bon fichier ?</translation>
    </message>
    <message>
        <source>The file is not UTF-8 text.</source>
        <translation>Le fichier n’est pas du texte UTF-8.</translation>
    </message>
    <message>
        <source>Imported %1</source>
        <translation>%1 importé</translation>
    </message>
    <message>
        <source>The tunnel “%1” from %2 is ready.</source>
        <translation>Le tunnel « %1 » issu de %2 est prêt.</translation>
    </message>
    <message>
        <source>Importing tunnels needs administrator rights: your account must be a member of the “calnet” group. Ask an administrator to run
    sudo usermod -aG calnet %1
then log out and back in.</source>
        <translation>L’importation de tunnels nécessite des droits d’administration : votre compte doit être membre du groupe « calnet ». Demandez à un administrateur d’exécuter
    sudo usermod -aG calnet %1
puis fermez votre session et rouvrez-la.</translation>
    </message>
    <message numerus="yes">
        <source>… and %n more (see details)</source>
        <translation>
            <numerusform>… et %n autre (voir les détails)</numerusform>
            <numerusform>… et %n autres (voir les détails)</numerusform>
        </translation>
    </message>
    <message>
        <source>The file is not a valid WireGuard configuration.</source>
        <translation>Le fichier n’est pas une configuration WireGuard valide.</translation>
    </message>
    <message>
        <source>The Calnet service refused the file.</source>
        <translation>Le service Calnet a refusé le fichier.</translation>
    </message>
    <message>
        <source>Could not import %1</source>
        <translation>Impossible d’importer %1</translation>
    </message>
    <message>
        <source>Import tunnel</source>
        <translation>Importer un tunnel</translation>
    </message>
    <message>
        <source>Connect now</source>
        <translation>Se connecter maintenant</translation>
    </message>
    <message>
        <source>Connects the imported tunnel</source>
        <translation>Établit la connexion au tunnel importé</translation>
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
        <translation>État du service</translation>
    </message>
    <message>
        <source>Connection state icon</source>
        <translation>Icône de l’état de la connexion</translation>
    </message>
    <message>
        <source>Connection state</source>
        <translation>État de la connexion</translation>
    </message>
    <message>
        <source>Connection details</source>
        <translation>Détails de la connexion</translation>
    </message>
    <message>
        <source>Copy &amp;address</source>
        <translation>Cop&amp;ier l’adresse</translation>
    </message>
    <message>
        <source>Copy this device's tunnel address</source>
        <translation>Copier l’adresse de tunnel de cet appareil</translation>
    </message>
    <message>
        <source>Address copied</source>
        <translation>Adresse copiée</translation>
    </message>
    <message>
        <source>&amp;Profile:</source>
        <translation>&amp;Profil :</translation>
    </message>
    <message>
        <source>Profile</source>
        <translation>Profil</translation>
    </message>
    <message>
        <source>Connect or disconnect</source>
        <translation>Se connecter ou se déconnecter</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Fichier</translation>
    </message>
    <message>
        <source>&amp;Import tunnel…</source>
        <translation>&amp;Importer un tunnel…</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Paramètres…</translation>
    </message>
    <message>
        <source>&amp;Close window</source>
        <translation>&amp;Fermer la fenêtre</translation>
    </message>
    <message>
        <source>&amp;Quit Calnet</source>
        <translation>&amp;Quitter Calnet</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Aide</translation>
    </message>
    <message>
        <source>&amp;About Calnet</source>
        <translation>À &amp;propos de Calnet</translation>
    </message>
    <message>
        <source>Profile %1</source>
        <translation>Profil %1</translation>
    </message>
    <message>
        <source>This device: %1</source>
        <translation>Cet appareil : %1</translation>
    </message>
    <message numerus="yes">
        <source>%n peer(s) not responding</source>
        <translation>
            <numerusform>%n pair ne répond pas</numerusform>
            <numerusform>%n pairs ne répondent pas</numerusform>
        </translation>
    </message>
    <message>
        <source>Connecting to the Calnet service at %1…</source>
        <translation>Connexion au service Calnet à l’adresse %1…</translation>
    </message>
    <message>
        <source>&amp;Disconnect</source>
        <translation>Se &amp;déconnecter</translation>
    </message>
    <message>
        <source>&amp;Connect</source>
        <translation>Se &amp;connecter</translation>
    </message>
    <message>
        <source>The Calnet service is not running.</source>
        <translation>Le service Calnet ne fonctionne pas.</translation>
    </message>
    <message>
        <source>Not connected.</source>
        <translation>Non connecté.</translation>
    </message>
    <message>
        <source>No peers in this profile.</source>
        <translation>Aucun pair dans ce profil.</translation>
    </message>
    <message>
        <source>Peers</source>
        <translation>Liste des pairs</translation>
    </message>
    <message>
        <source>Move the tunnel to the chosen profile</source>
        <translation>Basculer le tunnel vers le profil choisi</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1 : %2</translation>
    </message>
    <message numerus="yes">
        <source>The Calnet service (calnetd) is not reachable at %1. Retrying in %n second(s)…</source>
        <translation>
            <numerusform>Le service Calnet (calnetd) est injoignable à l’adresse %1. Nouvel essai dans %n seconde…</numerusform>
            <numerusform>Le service Calnet (calnetd) est injoignable à l’adresse %1. Nouvel essai dans %n secondes…</numerusform>
        </translation>
    </message>
    <message>
        <source>S&amp;witch to %1</source>
        <translation>&amp;Basculer vers %1</translation>
    </message>
    <message>
        <source>Loading peers…</source>
        <translation>Chargement des pairs…</translation>
    </message>
    <message>
        <source>Si&amp;gn in to a Calnet network…</source>
        <translation>Se &amp;connecter à un réseau Calnet…</translation>
    </message>
    <message>
        <source>Sign &amp;out…</source>
        <translation>Se &amp;déconnecter…</translation>
    </message>
    <message>
        <source>Signed in as %1</source>
        <translation>Connecté en tant que %1</translation>
    </message>
    <message>
        <source>Sign in again to stay connected</source>
        <translation>Reconnectez-vous pour rester connecté</translation>
    </message>
    <message>
        <source>Not on a network yet. Sign in to your organisation's Calnet network (File → Sign in to a Calnet network…), or import a .conf file (File → Import tunnel…) or drop it here.</source>
        <translation>Pas encore de réseau. Connectez-vous au réseau Calnet de votre organisation (Fichier → Se connecter à un réseau Calnet…), ou importez un fichier .conf (Fichier → Importer un tunnel…) ou déposez-le ici.</translation>
    </message>
</context>
<context>
    <name>calnet::app::PeerBrowser</name>
    <message>
        <source>Filter by name, key, address or endpoint</source>
        <translation>Filtrer par nom, clé, adresse ou point de terminaison</translation>
    </message>
    <message>
        <source>Filter peers</source>
        <translation>Filtrer les pairs</translation>
    </message>
    <message>
        <source>Peers</source>
        <translation>Pairs</translation>
    </message>
    <message>
        <source>No peers</source>
        <translation>Aucun pair</translation>
    </message>
    <message>
        <source>No peer selected</source>
        <translation>Aucun pair sélectionné</translation>
    </message>
    <message>
        <source>Peer details</source>
        <translation>Détails du pair</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Nom</translation>
    </message>
    <message>
        <source>Public key</source>
        <translation>Clé publique</translation>
    </message>
    <message>
        <source>Allowed IPs</source>
        <translation>IP autorisées</translation>
    </message>
    <message>
        <source>Endpoint</source>
        <translation>Point de terminaison</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>Chemin</translation>
    </message>
    <message>
        <source>Last handshake</source>
        <translation>Dernière poignée de main</translation>
    </message>
    <message>
        <source>Transfer</source>
        <translation>Transfert</translation>
    </message>
    <message>
        <source>Persistent keepalive</source>
        <translation>Keepalive persistant</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>Nom :</translation>
    </message>
    <message>
        <source>Public key:</source>
        <translation>Clé publique :</translation>
    </message>
    <message>
        <source>Allowed IPs:</source>
        <translation>IP autorisées :</translation>
    </message>
    <message>
        <source>Endpoint:</source>
        <translation>Point de terminaison :</translation>
    </message>
    <message>
        <source>Path:</source>
        <translation>Chemin :</translation>
    </message>
    <message>
        <source>Last handshake:</source>
        <translation>Dernière poignée de main :</translation>
    </message>
    <message>
        <source>Transfer:</source>
        <translation>Transfert :</translation>
    </message>
    <message>
        <source>Keepalive:</source>
        <translation>Keepalive :</translation>
    </message>
    <message>
        <source>Copy key</source>
        <translation>Copier la clé</translation>
    </message>
    <message>
        <source>Copy public key</source>
        <translation>Copier la clé publique</translation>
    </message>
    <message>
        <source>Copies the peer's public key to the clipboard</source>
        <translation>Copie la clé publique du pair dans le presse-papiers</translation>
    </message>
    <message>
        <source>Copy address</source>
        <translation>Copier l’adresse</translation>
    </message>
    <message>
        <source>Copies the peer's first allowed IP to the clipboard</source>
        <translation>Copie la première IP autorisée du pair dans le presse-papiers</translation>
    </message>
    <message>
        <source>Copy endpoint</source>
        <translation>Copier le point de terminaison</translation>
    </message>
    <message>
        <source>Copies the peer's endpoint to the clipboard</source>
        <translation>Copie le point de terminaison du pair dans le presse-papiers</translation>
    </message>
    <message>
        <source>Peer count</source>
        <translation>Nombre de pairs</translation>
    </message>
    <message numerus="yes">
        <source>%n peer(s) (%1 shown)</source>
        <translation>
            <numerusform>%n pair (%1 à l’écran)</numerusform>
            <numerusform>%n pairs (%1 à l’écran)</numerusform>
        </translation>
    </message>
    <message>
        <source>none</source>
        <translation>non renseigné</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>inconnu</translation>
    </message>
    <message>
        <source>%1 ago (%2)</source>
        <translation>il y a %1 (%2)</translation>
    </message>
    <message>
        <source>never</source>
        <translation>jamais</translation>
    </message>
    <message>
        <source>%1 received, %2 sent</source>
        <translation>%1 reçus, %2 envoyés</translation>
    </message>
    <message numerus="yes">
        <source>every %n second(s)</source>
        <translation>
            <numerusform>intervalle de %n seconde</numerusform>
            <numerusform>intervalle de %n secondes</numerusform>
        </translation>
    </message>
    <message>
        <source>off</source>
        <translation>désactivé</translation>
    </message>
    <message>
        <source>Shows only the peers whose name, public key, address or endpoint contains this text. %1 moves here, Escape clears it.</source>
        <translation>N’affiche que les pairs dont le nom, la clé publique, l’adresse ou le point de terminaison contient ce texte. %1 place le curseur ici, Échap l’efface.</translation>
    </message>
    <message>
        <source>One row per peer. %1 copies the address of the current peer.</source>
        <translation>Une ligne par pair. %1 copie l’adresse du pair sélectionné.</translation>
    </message>
    <message>
        <source>%1 (no name)</source>
        <translation>%1 (sans nom)</translation>
    </message>
</context>
<context>
    <name>calnet::app::PeerModel</name>
    <message>
        <source>relayed</source>
        <translation>relayé</translation>
    </message>
    <message>
        <source>direct</source>
        <translation>direct</translation>
    </message>
    <message>
        <source>never</source>
        <translation>jamais</translation>
    </message>
    <message>
        <source>%1 ago · %2</source>
        <translation>il y a %1 · %2</translation>
    </message>
    <message>
        <source>every %1 s</source>
        <translation>toutes les %1 s</translation>
    </message>
    <message>
        <source>off</source>
        <translation>désactivé</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Nom</translation>
    </message>
    <message>
        <source>Addresses</source>
        <translation>Adresses</translation>
    </message>
    <message>
        <source>Endpoint</source>
        <translation>Point de terminaison</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>Chemin</translation>
    </message>
    <message>
        <source>Last handshake</source>
        <translation>Dernière poignée de main</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>Reçu</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Envoyé</translation>
    </message>
    <message>
        <source>Keepalive</source>
        <translation>Keepalive</translation>
    </message>
    <message numerus="yes">
        <source>%n B</source>
        <translation>
            <numerusform>%n o</numerusform>
            <numerusform>%n o</numerusform>
        </translation>
    </message>
    <message>
        <source>%1 d %2 h</source>
        <translation>%1 j %2 h</translation>
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
        <translation>actif</translation>
    </message>
    <message>
        <source>stale</source>
        <translation>périmé</translation>
    </message>
    <message>
        <source>dead</source>
        <translation>injoignable</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>hors ligne</translation>
    </message>
    <message>
        <source>relayed via %1</source>
        <translation>relayé par %1</translation>
    </message>
    <message>
        <source>no path</source>
        <translation>aucun chemin</translation>
    </message>
    <message>
        <source>%1 · %2 ms</source>
        <translation>%1 · %2 ms</translation>
    </message>
    <message>
        <source>The server reports this peer offline.</source>
        <translation>Le serveur signale ce pair hors ligne.</translation>
    </message>
    <message>
        <source>the relay</source>
        <translation>le relais</translation>
    </message>
    <message>
        <source>Relayed via %1</source>
        <translation>Relayé par %1</translation>
    </message>
    <message>
        <source>Relayed via %1 since %2</source>
        <translation>Relayé par %1 depuis %2</translation>
    </message>
    <message>
        <source>No path</source>
        <translation>Aucun chemin</translation>
    </message>
    <message>
        <source>No path since %1</source>
        <translation>Aucun chemin depuis %1</translation>
    </message>
    <message>
        <source>Direct to %1</source>
        <translation>Direct vers %1</translation>
    </message>
    <message>
        <source>Direct to %1 since %2</source>
        <translation>Direct vers %1 depuis %2</translation>
    </message>
    <message>
        <source>Direct</source>
        <translation>Connexion directe</translation>
    </message>
    <message>
        <source>%1, %2 ms</source>
        <translation>%1, %2 ms</translation>
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
        <translation>Paramètres de Calnet</translation>
    </message>
    <message>
        <source>Show &amp;notifications</source>
        <translation>Afficher les &amp;notifications</translation>
    </message>
    <message>
        <source>Show notifications</source>
        <translation>Afficher les notifications</translation>
    </message>
    <message>
        <source>Tell me when the tunnel connects, disconnects or fails.</source>
        <translation>Vous avertit lorsque le tunnel se connecte, se déconnecte ou échoue.</translation>
    </message>
    <message>
        <source>&amp;Start Calnet when I log in</source>
        <translation>&amp;Démarrer Calnet à l’ouverture de session</translation>
    </message>
    <message>
        <source>Start Calnet when I log in</source>
        <translation>Démarrer Calnet à l’ouverture de session</translation>
    </message>
    <message>
        <source>Start at login error</source>
        <translation>Erreur du démarrage automatique</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>&amp;Langue :</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Langue</translation>
    </message>
    <message>
        <source>The language applies when Calnet is next started.</source>
        <translation>La langue sera appliquée au prochain démarrage de Calnet.</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Fermer</translation>
    </message>
    <message>
        <source>Could not turn on start at login: %1</source>
        <translation>Impossible d’activer le démarrage à l’ouverture de session : %1</translation>
    </message>
    <message>
        <source>Could not turn off start at login: %1</source>
        <translation>Impossible de désactiver le démarrage à l’ouverture de session : %1</translation>
    </message>
</context>
<context>
    <name>calnet::app::SignInDialog</name>
    <message>
        <source>Sign in to a Calnet network</source>
        <translation>Se connecter à un réseau Calnet</translation>
    </message>
    <message>
        <source>Enter the address of your organisation's Calnet server. You sign in with your company account in your browser.</source>
        <translation>Saisissez l’adresse du serveur Calnet de votre organisation. Vous vous connectez avec votre compte d’entreprise dans votre navigateur.</translation>
    </message>
    <message>
        <source>Server address</source>
        <translation>Adresse du serveur</translation>
    </message>
    <message>
        <source>&amp;Server:</source>
        <translation>&amp;Serveur :</translation>
    </message>
    <message>
        <source>Auth key</source>
        <translation>Clé d’authentification</translation>
    </message>
    <message>
        <source>&amp;Auth key:</source>
        <translation>&amp;Clé d’authentification :</translation>
    </message>
    <message>
        <source>Sign &amp;in</source>
        <translation>Se &amp;connecter</translation>
    </message>
    <message>
        <source>Join with an auth &amp;key…</source>
        <translation>Rejoindre avec une &amp;clé…</translation>
    </message>
    <message>
        <source>&amp;Join</source>
        <translation>&amp;Rejoindre</translation>
    </message>
    <message>
        <source>Waiting for the browser…</source>
        <translation>En attente du navigateur…</translation>
    </message>
    <message>
        <source>Sign in on the page that opened in your browser. If no page opened, copy the link and open it in a browser.</source>
        <translation>Connectez-vous sur la page ouverte dans votre navigateur. Si aucune page ne s’est ouverte, copiez le lien et ouvrez-le dans un navigateur.</translation>
    </message>
    <message>
        <source>&amp;Copy link</source>
        <translation>&amp;Copier le lien</translation>
    </message>
    <message>
        <source>Copied</source>
        <translation>Copié</translation>
    </message>
    <message>
        <source>Enter the address of the Calnet server.</source>
        <translation>Saisissez l’adresse du serveur Calnet.</translation>
    </message>
    <message>
        <source>%1 is not a server address. It looks like https://calnet.example.com.</source>
        <translation>%1 n’est pas une adresse de serveur. Elle ressemble à https://calnet.example.com.</translation>
    </message>
    <message>
        <source>No browser could be opened. Copy the link and open it in a browser:</source>
        <translation>Aucun navigateur n’a pu être ouvert. Copiez le lien et ouvrez-le dans un navigateur :</translation>
    </message>
    <message>
        <source>Joining the network…</source>
        <translation>Connexion au réseau…</translation>
    </message>
    <message>
        <source>Enter the auth key your administrator gave you.</source>
        <translation>Saisissez la clé d’authentification fournie par votre administrateur.</translation>
    </message>
</context>
<context>
    <name>calnet::app::TrayController</name>
    <message>
        <source>Calnet menu</source>
        <translation>Menu Calnet</translation>
    </message>
    <message>
        <source>%1 — %2</source>
        <translation>%1 — %2</translation>
    </message>
    <message>
        <source>&amp;Disconnect</source>
        <translation>Se &amp;déconnecter</translation>
    </message>
    <message>
        <source>&amp;Connect</source>
        <translation>Se &amp;connecter</translation>
    </message>
    <message>
        <source>&amp;Connect to %1</source>
        <translation>Se &amp;connecter à %1</translation>
    </message>
    <message>
        <source>&amp;Profile</source>
        <translation>&amp;Profil</translation>
    </message>
    <message>
        <source>This device: %1</source>
        <translation>Cet appareil : %1</translation>
    </message>
    <message>
        <source>Click to copy</source>
        <translation>Cliquer pour copier</translation>
    </message>
    <message>
        <source>Peers</source>
        <translation>Pairs</translation>
    </message>
    <message>
        <source>%1 ago</source>
        <translation>il y a %1</translation>
    </message>
    <message>
        <source>%1 — click to copy %2</source>
        <translation>%1 — cliquer pour copier %2</translation>
    </message>
    <message numerus="yes">
        <source>Show all %n peer(s)…</source>
        <translation>
            <numerusform>Afficher %n pair…</numerusform>
            <numerusform>Afficher les %n pairs…</numerusform>
        </translation>
    </message>
    <message>
        <source>Peer &amp;browser…</source>
        <translation>&amp;Liste des pairs…</translation>
    </message>
    <message>
        <source>&amp;Import tunnel…</source>
        <translation>&amp;Importer un tunnel…</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>Pa&amp;ramètres…</translation>
    </message>
    <message>
        <source>&amp;About Calnet</source>
        <translation>À pr&amp;opos de Calnet</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Quitter</translation>
    </message>
    <message>
        <source>%1 — sign in again to stay connected</source>
        <translation>%1 — reconnectez-vous pour rester connecté</translation>
    </message>
    <message>
        <source>Signed in as %1</source>
        <translation>Connecté en tant que %1</translation>
    </message>
    <message>
        <source>Sign &amp;out…</source>
        <translation>Se &amp;déconnecter…</translation>
    </message>
    <message>
        <source>Sign in to a Calnet &amp;network…</source>
        <translation>Se conn&amp;ecter à un réseau Calnet…</translation>
    </message>
    <message>
        <source>Not on a network yet — sign in or import a tunnel</source>
        <translation>Pas encore de réseau — connectez-vous ou importez un tunnel</translation>
    </message>
</context>
<context>
    <name>calnet::app::autostart</name>
    <message>
        <source>Connect to your Calnet network from the tray</source>
        <translation>Se connecter à votre réseau Calnet depuis la zone de notification</translation>
    </message>
    <message>
        <source>Could not remove %1: %2</source>
        <translation>Impossible de supprimer %1 : %2</translation>
    </message>
    <message>
        <source>Could not create the folder %1.</source>
        <translation>Impossible de créer le dossier %1.</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>Impossible d’écrire %1 : %2</translation>
    </message>
</context>
<context>
    <name>calnet::app::translation</name>
    <message>
        <source>System default</source>
        <translation>Langue du système</translation>
    </message>
</context>
<context>
    <name>calnet::signin::BrowserSignIn</name>
    <message numerus="yes">
        <source>The browser did not come back within %n minute(s). Sign in again.</source>
        <translation>
            <numerusform>Le navigateur n’est pas revenu en %n minute. Reconnectez-vous.</numerusform>
            <numerusform>Le navigateur n’est pas revenu en %n minutes. Reconnectez-vous.</numerusform>
        </translation>
    </message>
    <message>
        <source>The identity provider's answer belongs to another sign-in.</source>
        <translation>La réponse du fournisseur d’identité appartient à une autre connexion.</translation>
    </message>
</context>
<context>
    <name>calnet::signin::DeviceSignIn</name>
    <message>
        <source>The code %1 expired before the sign-in was done. Sign in again.</source>
        <translation>Le code %1 a expiré avant la fin de la connexion. Reconnectez-vous.</translation>
    </message>
    <message>
        <source>The sign-in was refused at the identity provider.</source>
        <translation>La connexion a été refusée chez le fournisseur d’identité.</translation>
    </message>
</context>
<context>
    <name>calnet::signin::LoopbackReceiver</name>
    <message>
        <source>Request too large</source>
        <translation>Requête trop grande</translation>
    </message>
    <message>
        <source>This request is too large.</source>
        <translation>Cette requête est trop grande.</translation>
    </message>
    <message>
        <source>Calnet sign-in</source>
        <translation>Connexion Calnet</translation>
    </message>
    <message>
        <source>This is not a sign-in request.</source>
        <translation>Ceci n’est pas une requête de connexion.</translation>
    </message>
    <message>
        <source>This request was not sent to the sign-in address.</source>
        <translation>Cette requête n’a pas été envoyée à l’adresse de connexion.</translation>
    </message>
    <message>
        <source>Nothing here.</source>
        <translation>Rien ici.</translation>
    </message>
    <message>
        <source>This sign-in link is not the one Calnet is waiting for. Start the sign-in again from Calnet.</source>
        <translation>Calnet n’attend pas ce lien de connexion. Relancez la connexion depuis Calnet.</translation>
    </message>
    <message>
        <source>The identity provider sent the browser back without a sign-in code.</source>
        <translation>Le fournisseur d’identité a renvoyé le navigateur sans code de connexion.</translation>
    </message>
    <message>
        <source>Sign-in failed</source>
        <translation>Échec de la connexion</translation>
    </message>
    <message>
        <source>Signed in</source>
        <translation>Connecté</translation>
    </message>
    <message>
        <source>Calnet has your sign-in. You can close this tab and go back to Calnet.</source>
        <translation>Calnet a reçu votre connexion. Vous pouvez fermer cet onglet et revenir à Calnet.</translation>
    </message>
    <message>
        <source>Cannot listen on 127.0.0.1 for the browser: %1.</source>
        <translation>Impossible d’écouter sur 127.0.0.1 pour le navigateur : %1.</translation>
    </message>
</context>
<context>
    <name>calnet::signin::ProviderClient</name>
    <message>
        <source>The identity provider at %1 answered HTTP %2 for its discovery document.</source>
        <translation>Le fournisseur d’identité à %1 a répondu HTTP %2 pour son document de découverte.</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Calnet desktop app: tray icon and peer browser.</source>
        <translation>Application de bureau Calnet : icône de notification et liste des pairs.</translation>
    </message>
    <message>
        <source>The helper's socket (default %1).</source>
        <translation>Socket du service Calnet (par défaut : %1).</translation>
    </message>
    <message>
        <source>Open the main window instead of a tray icon.</source>
        <translation>Ouvrir la fenêtre principale au lieu d’une icône dans la zone de notification.</translation>
    </message>
    <message>
        <source>Open the peer browser at start.</source>
        <translation>Ouvrir la liste des pairs au démarrage.</translation>
    </message>
    <message>
        <source>Started at login (used by the autostart entry).</source>
        <translation>Démarré à l’ouverture de session (utilisé par l’entrée de démarrage automatique).</translation>
    </message>
</context>
</TS>
