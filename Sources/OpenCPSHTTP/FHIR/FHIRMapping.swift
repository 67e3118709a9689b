import OpenCPSDomain

/// Turns registry records into the directory's FHIR resources, as the national directory
/// shows them (REFERENCE.md §6): identifier systems and types, NOS code systems.
enum FHIRMapping {
    static func practitioner(_ stored: StoredProfessional) -> FHIRPractitioner {
        let professional = stored.professional
        var identifiers = [
            identifier(type: "IDNPS", system: FHIRSystem.idNatPS, value: professional.idNat.value),
        ]
        switch professional.idNat {
        case .rpps(let rpps):
            identifiers.append(identifier(type: "RPPS", system: FHIRSystem.rpps, value: rpps.value))
        case .adeli(let adeli):
            identifiers.append(identifier(type: "ADELI", system: FHIRSystem.adeli, value: adeli.value))
        case .establishmentStaff:
            break
        }
        let suffix = professional.exercises.compactMap(\.civiliteExercice).first
        let name = FHIRHumanName(
            use: "usual", family: professional.lastName, given: [professional.firstName],
            prefix: professional.civilite.map { [$0] }, suffix: suffix.map { [$0] })
        let qualifications = professional.exercises.map { exercise in
            FHIRQualification(code: FHIRCodeableConcept(coding: [
                FHIRCoding(
                    system: exercise.profession.codeSystem == .r95UsagerTitre ? FHIRSystem.usagerTitreR95 : FHIRSystem.professionG15,
                    code: exercise.profession.code, display: exercise.profession.label),
                FHIRCoding(system: FHIRSystem.categoryR09, code: exercise.categoryCode),
            ]))
        }
        return FHIRPractitioner(
            id: FHIRIdentifier.of(professional.idNat),
            meta: FHIRMeta(lastUpdated: stored.updatedAt, profile: [FHIRSystem.practitionerProfile]),
            active: true, identifier: identifiers, name: [name],
            qualification: qualifications.isEmpty ? nil : qualifications)
    }

    static func practitionerRole(_ stored: StoredActivity, lastUpdated: String?) -> FHIRPractitionerRole {
        let activity = stored.activity
        var codes = [
            FHIRCodeableConcept(coding: [FHIRCoding(system: FHIRSystem.modeR23, code: activity.mode.rawValue, display: activity.mode.label)]),
        ]
        if let sector = activity.sectorCode {
            codes.append(FHIRCodeableConcept(coding: [FHIRCoding(system: FHIRSystem.sectorR02, code: sector, display: SecteurActivite.named(code: sector)?.label)]))
        }
        return FHIRPractitionerRole(
            id: stored.id,
            meta: FHIRMeta(lastUpdated: lastUpdated, profile: [FHIRSystem.practitionerRoleProfile]),
            active: true,
            identifier: [FHIRIdentifierValue(use: "official", type: nil, system: FHIRSystem.activity, value: stored.id)],
            practitioner: FHIRReference(reference: "Practitioner/\(FHIRIdentifier.of(stored.idNat))"),
            organization: activity.structure.map { FHIRReference(reference: "Organization/\($0.idNatStruct)") },
            code: codes)
    }

    static func organization(_ structure: Structure) -> FHIROrganization {
        var identifiers = [identifier(type: "IDNST", system: FHIRSystem.idNatStruct, value: structure.identifier.idNatStruct)]
        switch structure.identifier {
        case .finess(let finess):
            identifiers.append(identifier(type: "FINEG", system: FHIRSystem.finess, value: finess.value))
        case .siret(let siret):
            identifiers.append(identifier(type: "SIRET", system: FHIRSystem.sirene, value: siret.value))
        }
        let types = structure.sectorCode.map { code in
            [FHIRCodeableConcept(
                extension: [FHIRCodeExtension(url: FHIRSystem.organizationTypesExtension, valueCode: "secteurActiviteRASS")],
                coding: [FHIRCoding(system: FHIRSystem.sectorR02, code: code, display: SecteurActivite.named(code: code)?.label)])]
        }
        let address = structure.address.map { address in
            [FHIRAddress(
                use: "work", line: address.line.map { [$0] }, city: address.city, postalCode: address.postalCode, country: "FR")]
        }
        return FHIROrganization(
            id: structure.identifier.idNatStruct,
            meta: FHIRMeta(profile: [FHIRSystem.organizationProfile]),
            active: true, identifier: identifiers, type: types, name: structure.name, address: address,
            partOf: structure.legalEntity.map { FHIRReference(reference: "Organization/1\($0.value)") })
    }

    private static func identifier(type: String, system: String, value: String) -> FHIRIdentifierValue {
        FHIRIdentifierValue(
            use: "official",
            type: FHIRCodeableConcept(coding: [FHIRCoding(system: FHIRSystem.identifierType, code: type)]),
            system: system, value: value)
    }
}
